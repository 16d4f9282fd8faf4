"""Fixtures every test folder may use."""
import pytest

pytest_plugins = ["tests.support.docker_fixtures"]

from tests.support.control_plane import admin_client, running_apiserver
from tests.support.leaks import host_objects, leaked_since


@pytest.fixture(scope="session", autouse=True)
def no_coxswain_state_left_on_the_host():
    """Fails the run if it left coxswain's state in the host's namespaces (tests/support/leaks.py).

    Every run on this machine shares them: a full node agent belongs in a
    local cluster's namespaces (tests/support/cluster.py), one in the host's
    runs as a kubelet only (tests/kubelet/agent_process.py), and everything
    else a test makes there is torn down by the test.
    """
    before = host_objects()
    yield
    leaked = leaked_since(before)
    assert not leaked, ("LEAK: this test run left coxswain state on the host (in the host's namespaces): "
                        + ", ".join(leaked))


@pytest.fixture
async def apiserver(tmp_path):
    """A real API server (SQLite store in tmp_path) in the test's event loop."""
    async with running_apiserver(tmp_path / "data") as server:
        yield server


@pytest.fixture
async def client(apiserver):
    """An admin client of `apiserver`."""
    c = admin_client(apiserver)
    yield c
    await c.close()
