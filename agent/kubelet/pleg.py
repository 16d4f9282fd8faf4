"""What Docker has, per pod, kept current without asking Docker on every sync.

`ContainerCache` holds one inspect result per container of ours. The pod
lifecycle event generator (`Pleg`) relists Docker every second, as
Kubernetes' PLEG does, and in between follows Docker's event stream: a
container that dies is inspected alone at once (Kubernetes' "evented
PLEG"), so a crash is noticed within milliseconds without a listing per
event. Only deaths matter there: every other change to our containers is
made by a pod worker, which records it itself. The periodic relist still catches anything the stream
missed (a daemon restart drops it). A relist is one `list` call, and only
containers whose state changed since the last look are inspected, so its
cost does not grow with the number of healthy containers.

Pod workers read their pod from the cache and put in it what their own
calls return (inspect after create, start, stop), so a relist sees no change
for what a worker just did and wakes it only for what happened behind its
back.
"""
import asyncio
import contextlib
import itertools
import logging
from collections import defaultdict
from collections.abc import Callable

from agent.runtime import Runtime
from agent.runtime.containers import cannot_run
from agent.runtime.errors import NotFound, RuntimeFailure
from agent.runtime.types import ContainerStatus, ContainerSummary, Kind, State
from controlplane.metrics import kubelet as metrics

log = logging.getLogger(__name__)

RELIST_PERIOD = 1.0


class ContainerCache:
    """Inspect results by container id, reused while a container's listed state stays the same."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._known: dict[str, ContainerStatus] = {}
        self._added: dict[str, int] = {}     # id → when it was learnt (a counter), see forget()
        self._clock = itertools.count()
        self._busy: dict[str, int] = {}      # id → operations in flight on it (see operating())
        self._exited: dict[str, asyncio.Event] = {}   # set when a container is seen exited (wait_exited)
        metrics.track_containers(self)

    def _put(self, status: ContainerStatus) -> None:
        self._known[status.id] = status
        self._added[status.id] = next(self._clock)
        if status.state is State.EXITED and status.id in self._exited:
            self._exited.pop(status.id).set()

    @contextlib.contextmanager
    def operating(self, container_id: str):
        """A pod worker is starting or stopping this container and will inspect it when done.

        Until then the PLEG leaves it alone: an inspect now would wait for the
        daemon's lock on the container and hold a worker thread for nothing.
        """
        self._busy[container_id] = self._busy.get(container_id, 0) + 1
        try:
            yield
        finally:
            self._busy[container_id] -= 1
            if not self._busy[container_id]:
                del self._busy[container_id]

    def busy(self, container_id: str) -> bool:
        return container_id in self._busy

    async def statuses(self, rows: list[ContainerSummary]) -> list[ContainerStatus]:
        stale = [row.id for row in rows if not self.busy(row.id) and
                 ((cached := self._known.get(row.id)) is None or
                  (cached.state != row.state and not (row.state is State.CREATED and cannot_run(cached))))]
        await asyncio.gather(*(self.inspect(container_id) for container_id in stale))
        return [self._known[row.id] for row in rows if row.id in self._known]

    async def inspect(self, container_id: str) -> ContainerStatus | None:
        """Look at one container now and remember it; None (and forgotten) if it is gone."""
        try:
            status = await self._runtime.containers.inspect(container_id)
        except NotFound:
            self.drop(container_id)
            return None
        self._put(status)
        return status

    async def remove(self, container_id: str) -> None:
        """Remove the container from Docker (already gone is fine) and forget it."""
        try:
            await self._runtime.containers.remove(container_id)
        except NotFound:
            pass
        self.drop(container_id)

    def drop(self, container_id: str) -> None:
        self._known.pop(container_id, None)
        self._added.pop(container_id, None)
        if container_id in self._exited:
            self._exited.pop(container_id).set()

    async def wait_exited(self, container_id: str, timeout: float) -> bool:
        """Wait until the container is seen exited (or gone); False if `timeout` passes first.

        Docker's die event makes the PLEG look at once; a look of our own every
        second covers an event that went missing.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            known = self._known.get(container_id)
            if known is None or known.state is State.EXITED:
                return True
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            event = self._exited.setdefault(container_id, asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), min(left, 1.0))
            except TimeoutError:
                await self.inspect(container_id)

    def mark(self) -> int:
        return next(self._clock)

    def forget(self, listed: set[str], *, since: int) -> None:
        """Drop containers a listing taken at `since` did not show, unless learnt after it."""
        for container_id in [c for c in self._known if c not in listed and self._added[c] < since]:
            self.drop(container_id)

    def of_pod(self, uid: str) -> list[ContainerStatus]:
        """One pod's containers (sandboxes too), every attempt, as last seen."""
        return [s for s in self._known.values() if s.pod.uid == uid]

    def running_pods(self) -> int:
        """Pods with a running sandbox (kubelet_running_pods)."""
        return len({s.pod.uid for s in self._known.values() if s.kind is Kind.SANDBOX and s.state is State.RUNNING})

    def states(self) -> dict[str, int]:
        """Containers, sandboxes included, by state (kubelet_running_containers)."""
        counts: dict[str, int] = defaultdict(int)
        for status in self._known.values():
            counts[status.state.value] += 1
        return dict(counts)

    def pods(self) -> dict[str, list[ContainerStatus]]:
        found: dict[str, list[ContainerStatus]] = defaultdict(list)
        for status in self._known.values():
            found[status.pod.uid].append(status)
        return dict(found)


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

    async def relist(self) -> None:
        before = {uid: _fingerprint(statuses) for uid, statuses in self.cache.pods().items()}
        since = self.cache.mark()
        rows = await self._runtime.containers.list()
        await self.cache.statuses(rows)
        self.cache.forget({row.id for row in rows}, since=since)
        after = {uid: _fingerprint(statuses) for uid, statuses in self.cache.pods().items()}
        for uid in set(before) | set(after):
            if before.get(uid) != after.get(uid):
                self._on_change(uid)

    async def run(self) -> None:
        """Relist every period and follow the event stream; survives a daemon that comes and goes."""
        watcher = asyncio.create_task(self._watch_events())
        try:
            while True:
                try:
                    await self.relist()
                except RuntimeFailure as e:
                    log.warning("relist failed: %s", e)
                except Exception:   # a bug must not stop the relisting
                    log.exception("relist failed")
                await asyncio.sleep(self._period)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    async def _watch_events(self) -> None:
        pending: dict[str, asyncio.Task] = {}
        while True:
            try:
                async for event in self._runtime.events(actions=("die",)):
                    if event.container_id not in pending:   # one look per container at a time is enough
                        task = asyncio.create_task(self._look(event.container_id, event.pod_uid))
                        pending[event.container_id] = task
                        task.add_done_callback(lambda _, cid=event.container_id: pending.pop(cid, None))
            except RuntimeFailure as e:
                log.warning("docker event stream: %s", e)
            except Exception:
                log.exception("docker event stream")
            await asyncio.sleep(1.0)

    async def _look(self, container_id: str, uid: str) -> None:
        if self.cache.busy(container_id):
            return
        before = _fingerprint(self.cache.of_pod(uid))
        try:
            await self.cache.inspect(container_id)
        except RuntimeFailure as e:
            log.debug("inspect after event: %s", e)
            return
        if _fingerprint(self.cache.of_pod(uid)) != before:
            self._on_change(uid)
