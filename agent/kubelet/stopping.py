"""Stopping one pod's containers, the way Kubernetes' kubelet kills them.

A container gets its preStop hook (hooks.py), then its stop signal, then SIGKILL once the grace period
is spent; the hook's time counts against the grace period, but a container always gets AFTER_PRE_STOP
seconds after its hook. When a whole pod stops, sidecars go after the main containers (sidecars.py) and
the sandboxes last. No thread waits meanwhile: Docker's die event, through the PLEG's cache, ends the wait.
"""
import asyncio
import math
import time

from google.protobuf.message import Message

from agent.kubelet import hooks, podspec, sidecars
from agent.kubelet.pleg import ContainerCache
from agent.kubelet.recorder import NORMAL, WARNING, Recorder
from agent.runtime import Runtime
from agent.runtime.errors import NotFound
from agent.runtime.types import ContainerStatus, Kind, State

SANDBOX_STOP_GRACE = 2  # the pause exits on SIGTERM at once; this is only a bound
KILL_WAIT = 10.0        # seconds to wait for a container to die after SIGKILL
AFTER_PRE_STOP = 2      # seconds a container gets at least after its preStop hook, as in Kubernetes


class Stopper:
    """Stops the containers of one pod (its uid) on this node."""

    def __init__(self, *, uid: str, runtime: Runtime, cache: ContainerCache, recorder: Recorder,
                 host_ip: str) -> None:
        self.uid = uid
        self._runtime = runtime
        self._cache = cache
        self._recorder = recorder
        self._host_ip = host_ip

    async def stop_all(self, snapshot: list[ContainerStatus], *, grace: int, pod: Message | None = None) -> None:
        """Stop every running container of the pod within `grace` seconds in all (with `pod`, their
        preStop hooks first, and the sidecars after the others); then the sandboxes."""
        running = [s for s in snapshot if s.state is State.RUNNING]
        apps = [s for s in running if s.kind is not Kind.SANDBOX]
        if pod is not None:
            for status in apps:
                self._recorder.record(pod, NORMAL, "Killing", f"Stopping container {status.name}",
                                      field_path=podspec.field_path(pod, status.name))
        deadline = time.monotonic() + grace
        for group in sidecars.stop_order(pod, apps):
            left = max(0, math.ceil(deadline - time.monotonic()))
            await asyncio.gather(*(self.stop(s, left, pod=pod) for s in group))
        await asyncio.gather(*(self.stop(s, SANDBOX_STOP_GRACE) for s in running if s.kind is Kind.SANDBOX))

    async def stop(self, status: ContainerStatus, grace: int, *, pod: Message | None = None) -> None:
        """The container's preStop hook if `pod` gives it one, its stop signal, then SIGKILL once
        `grace` seconds (the hook's time included) are spent if it still runs."""
        if pod is not None and grace > 0:
            grace = await self._pre_stop(pod, status, grace)
        containers, cache = self._runtime.containers, self._cache
        try:
            signals = ((status.stop_signal, grace),) if grace > 0 else ()
            for signal, wait in (*signals, ("SIGKILL", KILL_WAIT)):
                if not await containers.kill(status.id, signal=signal):
                    break      # not running (any more): look at how it ended
                if await cache.wait_exited(status.id, wait):
                    return     # the cache has its exit, from the die event
        except NotFound:
            cache.drop(status.id)
            return
        await cache.inspect(status.id)

    def hook_host(self) -> str:
        """Where a hook's httpGet goes without a host: the pod's IP (the node's with hostNetwork)."""
        return hooks.pod_host(self._cache.of_pod(self.uid), host_ip=self._host_ip)

    async def _pre_stop(self, pod: Message, status: ContainerStatus, grace: int) -> int:
        """Run the container's preStop hook within `grace`; the seconds left for its stop signal."""
        container = podspec.container_named(pod, status.name, init=status.kind is Kind.INIT)
        if container is None or not container.lifecycle.HasField("pre_stop"):
            return grace
        handler, began = container.lifecycle.pre_stop, time.monotonic()
        problem = await hooks.run(self._runtime, handler, container_id=status.id, host=self.hook_host(),
                                  named_ports=hooks.named_ports(container), timeout=float(grace))
        if problem is not None:
            self._recorder.record(pod, WARNING, "FailedPreStopHook",
                                  hooks.failure(handler, pod, container.name, problem),
                                  field_path=podspec.field_path(pod, container.name))
        return max(AFTER_PRE_STOP, math.ceil(grace - (time.monotonic() - began)))
