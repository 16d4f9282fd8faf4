"""Helpers for controller tests against a real API server."""
import asyncio
import contextlib
import time

from google.protobuf import struct_pb2

from controlplane.api.kinds import KINDS
from controlplane.controllers import pods as podutil
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


async def eventually(check, *, timeout: float = 20.0, interval: float = 0.05, what: str = ""):
    """Await `check()` until it returns something truthy; return that, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check.__name__} (last: {last!r})")


def template(labels: dict, image: str = "busybox", **spec) -> dict:
    return {"metadata": {"labels": labels},
            "spec": {"containers": [{"name": "main", "image": image, "command": ["sleep", "3600"]}], **spec}}


def deployment(name: str, replicas: int, *, image: str = "busybox", namespace: str = "default",
               surge=None, unavailable=None, **spec):
    d = KINDS["Deployment"].new(metadata={"name": name, "namespace": namespace},
                                spec={"replicas": replicas, "selector": {"match_labels": {"app": name}},
                                      "template": template({"app": name}, image), **spec})
    for field, raw in (("max_surge", surge), ("max_unavailable", unavailable)):
        if raw is not None:
            getattr(d.spec.strategy.rolling_update, field).CopyFrom(
                struct_pb2.Value(number_value=raw) if isinstance(raw, int) else struct_pb2.Value(string_value=raw))
    return d


async def active_pods(client, namespace: str = "default", **selectors) -> list:
    listing = await client.resource("Pod").list(namespace=namespace, **selectors)
    return [p for p in listing.items if podutil.is_active(p)]
