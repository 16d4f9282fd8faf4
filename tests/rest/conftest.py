"""A `cox server` with its REST API, and the real kubectl pointed at it through the kubeconfig it writes."""
import itertools
import json
import pathlib
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from tests.support.control_plane import ServerProcess
from tests.support.ports import free_port

# The kubectl these tests were written against (Debian's google-cloud-sdk one on the test machine).
KUBECTL_MINOR = "1.32"

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

    def __call__(self, *args: str, stdin: str | None = None, ok: bool = True,
                 timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run(self.command(*args), input=stdin, capture_output=True, text=True,
                                timeout=timeout, env=self.env())
        if ok:
            assert result.returncode == 0, f"kubectl {' '.join(args)} failed: {result.stderr}"
        return result

    def command(self, *args: str) -> list[str]:
        return [shutil.which("kubectl"), "--kubeconfig", str(self.kubeconfig),
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
def namespace(kubectl) -> str:
    """A fresh namespace, so tests sharing the server do not see each other's objects."""
    name = f"rest{next(_numbers)}"
    kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                                   "metadata": {"name": name}}))
    return name
