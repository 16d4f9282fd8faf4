"""The parts of pyroute2 the agent uses, without pyroute2's package __init__.

`import pyroute2` (and so `from pyroute2.x import y`, which runs the package
first) imports all of pyroute2: NDB with sqlite3, IPDB, wireless, devlink,
plan9: 163 of its modules where these four names need 102, and ~5 MB of the
agent's memory (bench/agent_memory_bench.py). So the package
is registered without running its __init__, and the submodules are imported
directly. Code elsewhere in the process that wants a name of the whole
package (`from pyroute2 import NDB`) still gets it: the first such lookup
runs the real __init__ into the registered module.
"""
import importlib.util
import sys


def _package_without_init() -> None:
    if "pyroute2" in sys.modules:
        return
    spec = importlib.util.find_spec("pyroute2")
    package = importlib.util.module_from_spec(spec)

    def complete(name: str):
        """A name no submodule import has set: a submodule's is left to the import system (which
        asks here first); any other is the whole package's, which runs once."""
        if importlib.util.find_spec(f"pyroute2.{name}") is not None:
            raise AttributeError(name)
        del package.__getattr__
        spec.loader.exec_module(package)
        return getattr(package, name)
    package.__getattr__ = complete
    sys.modules["pyroute2"] = package


_package_without_init()

from pyroute2.conntrack import Conntrack  # noqa: E402
from pyroute2.iproute.linux import IPRoute  # noqa: E402
from pyroute2.netlink.exceptions import NetlinkError  # noqa: E402
from pyroute2.netlink.nfnetlink.nfctsocket import NFCTAttrTuple  # noqa: E402

__all__ = ["Conntrack", "IPRoute", "NFCTAttrTuple", "NetlinkError"]
