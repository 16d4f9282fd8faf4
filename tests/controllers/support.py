"""Helpers for controller tests against a real API server."""
import asyncio
import contextlib
import time

from google.protobuf import struct_pb2

from agent.runtime.hollow import Program
from controlplane.api.kinds import KINDS
from controlplane.controllers import pods as podutil
from controlplane.controllers.manager import ControllerManager, ControllerOptions
from controlplane.scheduler import Scheduler
from controlplane.scheduler.config import LeaderElection, SchedulerConfig
from tests.support.hollow import HollowNodes

SCHEDULER = SchedulerConfig(leader_election=LeaderElection(leader_elect=False), pod_initial_backoff_seconds=0.1,
                            pod_max_backoff_seconds=0.5)


@contextlib.asynccontextmanager
async def _running(component, ready: asyncio.Event):
    """`component.run(stop)` in a task, once `ready` is set, until the block ends."""
    stop = asyncio.Event()
    task = asyncio.create_task(component.run(stop))
    try:
        await asyncio.wait_for(ready.wait(), 30)
        yield component
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@contextlib.asynccontextmanager
async def running_manager(client, **options):
    """A ControllerManager (no leader election unless asked) running until the block ends."""
    options.setdefault("leader_elect", False)
    manager = ControllerManager(client, ControllerOptions(**options))
    async with _running(manager, manager.leading):
        yield manager


@contextlib.asynccontextmanager
async def hollow_nodes(client, names=("node-a", "node-b"), *, heartbeat_seconds: float = 1.0, **options):
    """Hollow nodes (real kubelets over an in-memory runtime, tests/support/hollow.py) run the pods, and
    the real scheduler places them."""
    scheduler = Scheduler(client, SCHEDULER)
    async with HollowNodes(client, list(names), heartbeat_seconds=heartbeat_seconds, **options) as nodes, \
            _running(scheduler, scheduler.synced):
        yield nodes


def starting_in(seconds: float):
    """A hollow node program: containers take `seconds` to start (pods turn Ready that much later)."""
    return lambda _config: Program(start_seconds=seconds)


def never_ready(_config) -> Program:
    """A hollow node program: containers run, and an exec readiness probe never passes."""
    return Program(exec_exit_code=1)


def with_readiness_probe(workload):
    """`workload` (a Deployment) with an exec readiness probe on its containers: the hollow node program
    answers it."""
    for container in workload.spec.template.spec.containers:
        container.readiness_probe.exec.command[:] = ["ready"]
        container.readiness_probe.period_seconds = 1
    return workload


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
