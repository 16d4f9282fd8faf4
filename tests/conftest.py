"""Fixtures every test folder may use."""
import pytest

pytest_plugins = ["tests.support.docker_fixtures"]

from tests.support.control_plane import admin_client, running_apiserver


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
