"""A package registered without running its __init__, so that only the submodules a process uses load.

Some packages' `__init__` imports everything they offer: pyroute2's loads NDB,
IPDB and wireless support, prometheus_client's a push gateway client and WSGI
and HTTP servers, unittest's its test runner. A daemon that needs a few of
their submodules then carries megabytes it never runs (the agent's memory
target is 60 MB; bench/agent_memory_bench.py). `without_init(name)` puts an
empty module for the package in `sys.modules`; imports of its submodules
(`from pyroute2.iproute.linux import IPRoute`) then run just those. A name of
the whole package that no submodule import has set (`from pyroute2 import
NDB`) still works: its first lookup runs the real __init__ into the module.
"""
import importlib.util
import sys


def without_init(name: str) -> None:
    """Register package `name` without its __init__, unless it is imported already."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    package = importlib.util.module_from_spec(spec)

    def complete(attribute: str):
        """A submodule's name is left to the import system (which asks here first); any other is the whole
        package's, which runs once."""
        if importlib.util.find_spec(f"{name}.{attribute}") is not None:
            raise AttributeError(attribute)
        del package.__getattr__
        spec.loader.exec_module(package)
        return getattr(package, attribute)
    package.__getattr__ = complete
    sys.modules[name] = package
