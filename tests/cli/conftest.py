"""A `cox server` process shared by the CLI tests, and `cox` run as users run it."""
import itertools
import subprocess
from dataclasses import dataclass

import pytest

from tests.support.control_plane import ServerProcess, cox_command, cox_env

_numbers = itertools.count()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    # No controllers or scheduler: these tests check what the CLI prints for objects they alone write.
    process = ServerProcess(tmp_path_factory.mktemp("cli") / "data",
                            extra_args=["--disable-controller-manager", "--disable-scheduler"]).start()
    yield process
    process.stop()


@dataclass
class Cox:
    """Runs `cox --config <the server's admin config> ARGS` as a child process (the config first, so
    words after a `--` in ARGS stay the command's)."""

    server: ServerProcess

    def __call__(self, *args: str, stdin: str | None = None, ok: bool = True,
                 env: dict | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(self.command(*args), input=stdin, capture_output=True, text=True, timeout=60,
                                env=self.env(**(env or {})))
        if ok:
            assert result.returncode == 0, f"cox {' '.join(args)} failed: {result.stderr}"
        return result

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(self.command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env())

    def command(self, *args: str) -> list[str]:
        return cox_command("--config", str(self.server.config_path), *args)

    def env(self, **extra: str) -> dict:
        return cox_env(self.server.home) | extra


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
