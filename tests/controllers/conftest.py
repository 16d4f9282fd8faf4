"""Fixtures for controller tests: a controller manager and hollow nodes over the test's API server."""
import pytest

from tests.controllers.fake_kubelet import FakeNodes
from tests.controllers.support import running_manager


@pytest.fixture
async def manager(client):
    """Every controller, with timings shortened for tests."""
    async with running_manager(client, job_backoff_seconds=0.2, node_monitor_period=0.5) as m:
        yield m


@pytest.fixture
async def nodes(client):
    """Two hollow nodes that bind, start and stop pods."""
    async with FakeNodes(client, ["node-a", "node-b"]) as fake:
        yield fake
