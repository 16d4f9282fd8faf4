"""The pod lifecycle event generator: notice what changed in Docker, per pod.

Kubernetes' PLEG relists the runtime every second and tells pod workers
whose containers changed. Ours does the same, and also relists at once when
Docker's event stream reports one of our containers starting or dying, so a
crash is noticed in milliseconds, while the periodic relist still catches
anything the stream missed (a daemon restart drops it).

A relist is one `list` call; only containers whose state changed since the
last look are inspected (`ContainerCache`), so its cost does not grow with
the number of healthy containers.
"""
import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable

from agent.runtime import Runtime
from agent.runtime.errors import NotFound, RuntimeFailure
from agent.runtime.types import ContainerStatus, ContainerSummary

log = logging.getLogger(__name__)

RELIST_PERIOD = 1.0


class ContainerCache:
    """Inspect results, reused while a container's listed state stays the same."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._known: dict[str, ContainerStatus] = {}

    async def statuses(self, rows: list[ContainerSummary]) -> list[ContainerStatus]:
        stale = [row for row in rows if (cached := self._known.get(row.id)) is None or cached.state != row.state]
        fresh = await asyncio.gather(*(self._inspect(row.id) for row in stale))
        for status in fresh:
            if status is not None:
                self._known[status.id] = status
        return [self._known[row.id] for row in rows if row.id in self._known]

    async def _inspect(self, container_id: str) -> ContainerStatus | None:
        try:
            return await self._runtime.containers.inspect(container_id)
        except NotFound:   # removed between list and inspect
            return None

    def forget(self, keep: set[str]) -> None:
        """Drop entries of containers that no longer exist."""
        for container_id in [c for c in self._known if c not in keep]:
            del self._known[container_id]

    async def pod(self, uid: str) -> list[ContainerStatus]:
        """A fresh picture of one pod: all its containers (sandboxes too), every attempt."""
        return await self.statuses(await self._runtime.containers.list(pod_uid=uid))


def _fingerprint(statuses: list[ContainerStatus]) -> frozenset:
    return frozenset((s.id, s.state) for s in statuses)


class Pleg:
    """Relists Docker and calls `on_change(uid)` for every pod whose containers changed."""

    def __init__(self, runtime: Runtime, cache: ContainerCache, on_change: Callable[[str], None], *,
                 period: float = RELIST_PERIOD) -> None:
        self._runtime = runtime
        self.cache = cache
        self._on_change = on_change
        self._period = period
        self._seen: dict[str, frozenset] = {}
        self._wake = asyncio.Event()
        self.pods: dict[str, list[ContainerStatus]] = {}

    def poke(self) -> None:
        """Relist now (something happened)."""
        self._wake.set()

    async def relist(self) -> dict[str, list[ContainerStatus]]:
        rows = await self._runtime.containers.list()
        statuses = await self.cache.statuses(rows)
        self.cache.forget({row.id for row in rows})
        pods: dict[str, list[ContainerStatus]] = defaultdict(list)
        for status in statuses:
            pods[status.pod.uid].append(status)
        for uid in set(self._seen) | set(pods):
            fingerprint = _fingerprint(pods.get(uid, []))
            if self._seen.get(uid) != fingerprint:
                self._on_change(uid)
            if pods.get(uid):
                self._seen[uid] = fingerprint
            else:
                self._seen.pop(uid, None)
        self.pods = dict(pods)
        return self.pods

    async def run(self) -> None:
        """Relist every period, or at once when poked; survives a daemon that comes and goes."""
        watcher = asyncio.create_task(self._watch_events())
        try:
            while True:
                try:
                    await self.relist()
                except RuntimeFailure as e:
                    log.warning("relist failed: %s", e)
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self._period)
                except TimeoutError:
                    pass
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    async def _watch_events(self) -> None:
        while True:
            try:
                async for _ in self._runtime.events():
                    self.poke()
            except RuntimeFailure as e:
                log.warning("docker event stream: %s", e)
            await asyncio.sleep(1.0)
