"""The agent process and Docker: it never loads docker-py or its HTTP stack (requests, urllib3: ~5 MB of
its memory, issue 16), nor what its libraries' package __init__s would drag in (controlplane/imports.py),
and a missing dockerd is one line of error, not a traceback.

`cox agent` is agent.cli; what it imports lazily is all under agent/, so every module there is
imported, in a fresh interpreter, and its sys.modules read."""
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.control_plane import cox_command, cox_env

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
import agent, agent.cli
for module in pkgutil.walk_packages(agent.__path__, "agent."):
    importlib.import_module(module.name)
print(" ".join(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def agent_modules() -> set[str]:
    """Every module a process that imported all of the agent holds."""
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    modules = set(done.stdout.split())
    assert len(modules) > 300 and {"agent.cli", "grpc", "pyroute2.iproute.linux"} <= modules   # it did import the agent
    return modules


def test_the_agent_loads_neither_docker_py_nor_requests_nor_urllib3(agent_modules):
    assert {name.split(".")[0] for name in agent_modules} & {"docker", "requests", "urllib3"} == set()


def test_the_agent_loads_no_http_server_nor_test_runner_nor_manifest_reader(agent_modules):
    """prometheus_client's __init__ would load its exposition module and with it http.server, urllib.request
    and wsgiref; pyroute2's netlink socket imports unittest.mock, whose package would load the test runner;
    the manifest reader and defaulting are for static pods only (agent/kubelet/static.py)."""
    assert {"prometheus_client.metrics", "prometheus_client.process_collector", "unittest.mock"} <= agent_modules
    assert agent_modules & {"prometheus_client.exposition", "http.server", "urllib.request", "wsgiref",
                            "unittest.case", "unittest.runner", "controlplane.api.convert",
                            "controlplane.api.defaults"} == set()


def test_an_agent_without_dockerd_says_so_in_one_line(tmp_path):
    (tmp_path / "manifests").mkdir()
    socket_path = tmp_path / "no-docker.sock"
    result = subprocess.run(
        cox_command("agent", "--pod-manifest-path", str(tmp_path / "manifests"), "--docker-url", f"unix://{socket_path}",
                    "--node-ip", "127.0.0.1", "--root-dir", str(tmp_path / "agent")),
        env=cox_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"error: Docker at unix://{socket_path}: [Errno 2] No such file or directory "
                                          f"(is dockerd running?)"]


def test_a_docker_url_of_another_kind_is_refused_by_name(tmp_path):
    result = subprocess.run(cox_command("agent", "--docker-url", "/var/run/docker.sock"), env=cox_env(tmp_path),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == ("cox agent: error: argument --docker-url: Docker URL "
                                              "'/var/run/docker.sock': expected unix:///path or tcp://host:port")


COX_AGENT_PROBE = """
import sys
from controlplane.cli.main import build_parser, command_modules
args = build_parser(command_modules(sys.argv[1:])).parse_args(sys.argv[1:])
print(args.command, " ".join(sorted(sys.modules)))
"""


def test_cox_agent_as_deployed_loads_no_other_command():
    """`cox agent` (the systemd unit's command) registers the agent's command alone: the other commands'
    modules (~2 MB) would stay in the agent for its whole life. Any other word gets every command."""
    line = ["-v", "--config", "/dev/null", "agent", "--node-name", "n1"]
    done = subprocess.run([sys.executable, "-c", COX_AGENT_PROBE, *line], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    command, modules = done.stdout.split(" ", 1)
    modules = set(modules.split())
    assert command == "agent" and "agent.cli" in modules
    assert {m for m in modules if m.startswith("controlplane.cli.") and m.endswith("_cmd")} == {"controlplane.cli.agent_cmd"}
    done = subprocess.run([sys.executable, "-c", COX_AGENT_PROBE, "get", "pods"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("get ") and "controlplane.cli.top_cmd" in done.stdout.split()
