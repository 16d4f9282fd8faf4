"""Measure the node's and its pods' CPU and memory on a period and report them through the API.

The kubelet's resource analyzer and metrics-server in one small loop: every
`period` seconds, one Docker stats call per running app container (one shot,
in the engine's threads) and one read of /proc; rates against the previous
round; then the node's NodeMetrics and one PodMetrics per measured pod are
written (update, or create the first time). A pod is reported from its
second round on, once there is a rate. A failed round is logged and the next
one tried.

Docker answers a one-shot stats call at its collector's next tick (up to a
second), holding one of the engine's threads meanwhile: at most
STATS_CONCURRENCY calls are in flight, so the rest of the engine's threads
stay free for starting pods.
"""
import asyncio
import logging
import time
from pathlib import Path
from typing import Callable, Mapping

from agent.kubelet import usage
from agent.kubelet.pleg import ContainerCache
from agent.runtime import Runtime
from agent.runtime.errors import RuntimeFailure
from agent.runtime.stats import ContainerStats
from agent.runtime.types import Kind, State
from controlplane.client import Client
from controlplane.client.errors import AlreadyExists, ApiError, NotFound

log = logging.getLogger(__name__)

DEFAULT_PERIOD = 15.0
STATS_CONCURRENCY = 8      # of the engine's 16 threads (runtime/engine.py)


class UsageReporter:
    def __init__(self, client: Client, runtime: Runtime, cache: ContainerCache, *, node_name: str,
                 period: float = DEFAULT_PERIOD, proc: Path = Path("/proc"),
                 pod_labels: Callable[[str, str], Mapping[str, str]] = lambda namespace, name: {}) -> None:
        """`pod_labels(namespace, name)`: the pod's labels, copied onto its PodMetrics as metrics-server
        does, so `kubectl top pods -l` selects them."""
        self._client = client
        self._pod_labels = pod_labels
        self._runtime = runtime
        self._cache = cache
        self._node = node_name
        self._period = period
        self._proc = proc
        self._containers: dict[str, ContainerStats] = {}     # id -> its previous sample
        self._node_sample: tuple[float, float] | None = None  # (busy core-seconds, monotonic time)
        self._written: set[tuple[str, str]] = set()           # (namespace, name) of PodMetrics made ("", node)

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self.report_once()
            except (ApiError, RuntimeFailure, OSError) as e:
                log.warning("resource usage: %s; trying again in %.0fs", e, self._period)
            await asyncio.sleep(max(self._period - (time.monotonic() - started), 0.0))

    async def report_once(self) -> int:
        """One round; how many pods it measured (with a rate, so reported)."""
        now = time.time()
        node = await asyncio.to_thread(self._read_node)
        pods = await self._sample_pods()
        if node is not None:
            cpu, memory, window = node
            await self._put("NodeMetrics", usage.node_metrics(self._node, cpu_cores=cpu, memory_bytes=memory,
                                                               window=window, now=now))
        # Forget what went: a pod seen again is created afresh (or found, and updated).
        self._written &= {("", self._node)} | {(namespace, name) for namespace, name, _ in pods}
        for (namespace, name, uid), (containers, window) in pods.items():
            try:
                await self._put("PodMetrics", usage.pod_metrics(namespace, name, uid, containers, window=window,
                                                                now=now, labels=self._pod_labels(namespace, name)))
            except ApiError as e:   # the pod went meanwhile (its PodMetrics go with it): no matter
                log.debug("resource usage of pod %s/%s: %s", namespace, name, e)
        return len(pods)

    def _read_node(self) -> tuple[float, int, float] | None:
        busy = usage.node_cpu_seconds((self._proc / "stat").read_text())
        memory = usage.node_memory_bytes((self._proc / "meminfo").read_text())
        at = time.monotonic()
        previous, self._node_sample = self._node_sample, (busy, at)
        if previous is None:
            return None
        rate = usage.cores(previous[0], previous[1], busy, at)
        return None if rate is None else (rate, memory, at - previous[1])

    async def _sample_pods(self) -> dict[tuple[str, str, str], tuple[dict[str, tuple[float, int]], float]]:
        running = [s for statuses in self._cache.pods().values() for s in statuses
                   if s.kind is Kind.APP and s.state is State.RUNNING]
        slots = asyncio.Semaphore(STATS_CONCURRENCY)

        async def sample(container_id: str):
            async with slots:
                return await self._runtime.stats.sample(container_id)
        samples = await asyncio.gather(*(sample(s.id) for s in running), return_exceptions=True)
        previous, self._containers = self._containers, {}
        found: dict = {}
        for status, sample in zip(running, samples):
            if isinstance(sample, BaseException):
                continue   # gone between the listing and the call
            self._containers[status.id] = sample
            before = previous.get(status.id)
            rate = None if before is None else usage.cores(before.cpu_seconds, before.at, sample.cpu_seconds,
                                                            sample.at)
            if rate is None:
                continue
            pod = (status.pod.namespace, status.pod.name, status.pod.uid)
            containers, window = found.setdefault(pod, ({}, sample.at - before.at))
            containers[status.name] = (rate, sample.memory_bytes)
        return found

    async def _put(self, kind: str, obj) -> None:
        """Update the object, or create it the first time (or when someone deleted it)."""
        resource = self._client.resource(kind)
        key = (obj.metadata.namespace, obj.metadata.name)
        if key in self._written:
            try:
                await resource.update(obj)
                return
            except NotFound:
                pass
        try:
            await resource.create(obj)
        except AlreadyExists:
            await resource.update(obj)
        self._written.add(key)
