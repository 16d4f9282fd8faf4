"""A `cox server` process shared by the CLI tests, and `cox` run as users run it."""
import itertools
import subprocess
from dataclasses import dataclass

import pytest

from tests.support.control_plane import ServerProcess, cox_command, cox_env

_numbers = itertools.count()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    # No controllers: these tests check what the CLI prints for objects they alone write.
    process = ServerProcess(tmp_path_factory.mktemp("cli") / "data",
                            extra_args=["--disable-controller-manager"]).start()
    yield process
    process.stop()


@dataclass
class Cox:
    """Runs `cox ARGS --config <the server's admin config>` as a child process."""

    server: ServerProcess

    def __call__(self, *args: str, stdin: str | None = None, ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(cox_command(*args, "--config", str(self.server.config_path)),
                                input=stdin, capture_output=True, text=True, timeout=60,
                                env=cox_env(self.server.home))
        if ok:
            assert result.returncode == 0, f"cox {' '.join(args)} failed: {result.stderr}"
        return result

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(cox_command(*args, "--config", str(self.server.config_path)),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=cox_env(self.server.home))


@pytest.fixture
def cox(server) -> Cox:
    return Cox(server)


@pytest.fixture
def namespace(cox) -> str:
    """A fresh namespace, so tests sharing the server do not see each other's objects."""
    name = f"t{next(_numbers)}"
    cox("create", "namespace", name)
    return name


@pytest.fixture
async def api(server):
    """An API client of the same server, for what a test sets up or checks behind cox's back."""
    client = server.client()
    yield client
    await client.close()
