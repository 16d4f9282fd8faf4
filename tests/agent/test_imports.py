"""The agent process never loads docker-py or its HTTP stack (requests, urllib3): ~5 MB of its memory
(issue 16). `cox agent` is agent.cli; what it imports lazily is all under agent/, so every module
there is imported, in a fresh interpreter, and its sys.modules read."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
import agent, agent.cli
for module in pkgutil.walk_packages(agent.__path__, "agent."):
    importlib.import_module(module.name)
print(len(sys.modules), " ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_the_agent_loads_neither_docker_py_nor_requests_nor_urllib3():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    count, loaded = done.stdout.split(" ", 1)
    packages = set(loaded.split())
    assert int(count) > 300 and {"agent", "grpc", "pyroute2"} <= packages   # the probe did import the agent
    assert packages & {"docker", "requests", "urllib3"} == set()
