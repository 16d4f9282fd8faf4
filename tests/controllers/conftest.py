"""Fixtures for controller tests: a controller manager over the test's API server."""
import asyncio
import contextlib

import pytest

from controlplane.controllers.manager import ControllerManager, ControllerOptions


@contextlib.asynccontextmanager
async def running_manager(client, **options):
    """A ControllerManager (no leader election unless asked) running until the block ends."""
    options.setdefault("leader_elect", False)
    manager = ControllerManager(client, ControllerOptions(**options))
    stop = asyncio.Event()
    task = asyncio.create_task(manager.run(stop))
    try:
        await asyncio.wait_for(manager.leading.wait(), 30)
        yield manager
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def manager(client):
    async with running_manager(client, job_backoff_seconds=0.2, node_monitor_period=0.5) as m:
        yield m
