"""Fixtures for controller tests: a controller manager and hollow nodes over the test's API server."""
import pytest

from tests.controllers.support import hollow_nodes, running_manager


@pytest.fixture
async def manager(client):
    """Every controller, with timings shortened for tests."""
    async with running_manager(client, job_backoff_seconds=0.2, node_monitor_period=0.5) as m:
        yield m


@pytest.fixture
async def nodes(client):
    """Two hollow nodes that run pods, and the scheduler placing pods on them."""
    async with hollow_nodes(client) as hollow:
        yield hollow
