"""The scheduling queue: which pending pod to try next, and when to try a failed one again.

Three places a pending pod can wait:

    active         ready now, ordered by the profile's QueueSort (priority, then age)
    backoff        failed recently; ready again after 1 s, doubling per attempt up to 10 s
    unschedulable  failed, and nothing has changed since that could make it fit

A pod leaves `unschedulable` only when a cluster event arrives that one of
the plugins that rejected it says may help (`Plugin.events`, with an optional
hint that looks at the pod and the change): a node added, a pod deleted, a
label changed. It then goes to backoff (or straight to active if its backoff
has passed). Events that arrive while a pod is being tried are remembered,
so a pod rejected on stale facts is retried rather than parked. As a last
resort a pod parked for five minutes is retried anyway, as in Kubernetes.
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from controlplane.scheduler.framework import ClusterEvent, EventInterest
from controlplane.scheduler.podinfo import PodInfo

Key = tuple[str, str]
ACTIVE, BACKOFF, UNSCHEDULABLE, IN_FLIGHT = "active", "backoff", "unschedulable", "in-flight"
_FLUSH_INTERVAL = 30.0


@dataclass(eq=False)
class QueuedPod:
    info: PodInfo
    added_at: float                  # when the queue first saw this pod (monotonic)
    attempts: int = 0
    unschedulable_plugins: set[str] = field(default_factory=set)
    backoff_until: float = 0.0
    parked_at: float = 0.0
    cycle: int = 0                   # scheduling cycle of the latest pop
    where: str = ACTIVE
    parked_under: list = field(default_factory=list)   # the index slots it is parked in
    _version: int = 0                # bumps on every move; stale heap entries are skipped


class SchedulingQueue:
    def __init__(self, sort_key: Callable[[PodInfo, float], tuple], *,
                 interests: dict[str, list[EventInterest]],
                 initial_backoff: float = 1.0, max_backoff: float = 10.0, max_parked: float = 300.0,
                 clock: Callable[[], float] = time.monotonic):
        self._sort_key = sort_key
        self._interests = interests
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._max_parked = max_parked
        self._clock = clock
        self._pods: dict[Key, QueuedPod] = {}
        self._active: list = []
        self._backoff: list = []
        # Parked pods by (plugin, index of its EventInterest) they may be woken by; ("", -1) for
        # pods that no plugin rejected (any event may help them).
        self._parked_by_interest: dict[tuple[str, int], set[Key]] = {}
        self._parked: set[Key] = set()
        self._seq = itertools.count()
        self._wakeup = asyncio.Event()
        self._cycle = 0
        self._recent_events: deque[tuple[int, ClusterEvent]] = deque()
        self._in_flight: dict[Key, int] = {}   # pod -> cycle it was popped in
        self._next_flush = clock() + _FLUSH_INTERVAL
        self._closed = False

    # ------------------------------------------------------------------ pods arriving

    def add(self, info: PodInfo) -> None:
        """A new pending pod, or a pending pod changed (it may fit now: try it again soon)."""
        queued = self._pods.get(info.key)
        if queued is None:
            queued = self._pods[info.key] = QueuedPod(info, added_at=self._clock())
            self._to_active(queued)
            return
        queued.info = info
        if queued.where == ACTIVE:
            self._to_active(queued)          # re-sort with the new priority
        elif queued.where == UNSCHEDULABLE:
            self._unpark(queued)
            self._to_backoff_or_active(queued)

    def delete(self, key: Key) -> None:
        self._in_flight.pop(key, None)
        queued = self._pods.pop(key, None)
        if queued is not None:
            self._unpark(queued)
            queued._version += 1

    def __contains__(self, key: Key) -> bool:
        return key in self._pods

    def __len__(self) -> int:
        return len(self._pods)

    def counts(self) -> dict[str, int]:
        out = {ACTIVE: 0, BACKOFF: 0, UNSCHEDULABLE: 0, IN_FLIGHT: 0}
        for queued in self._pods.values():
            out[queued.where] += 1
        return out

    # ------------------------------------------------------------------ the scheduler's side

    async def pop(self) -> QueuedPod:
        """The next pod to try; waits while none is ready. Raises asyncio.CancelledError on close()."""
        while True:
            if self._closed:
                raise asyncio.CancelledError("scheduling queue closed")
            now = self._clock()
            self._flush(now)
            while self._active:
                _, _, version, queued = heapq.heappop(self._active)
                if queued._version == version and queued.where == ACTIVE and queued.info.key in self._pods:
                    self._cycle += 1
                    queued.cycle = self._cycle
                    queued.attempts += 1
                    queued.where = IN_FLIGHT
                    self._in_flight[queued.info.key] = self._cycle
                    return queued
            self._wakeup.clear()
            timeout = None
            if self._backoff:
                timeout = max(self._backoff[0][0] - now, 0.0)
            timeout = min(timeout if timeout is not None else _FLUSH_INTERVAL, max(self._next_flush - now, 0.0))
            try:   # not wait_for: on 3.11 it can swallow a cancel that comes as the event is set
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()
            except TimeoutError:
                pass

    def done(self, key: Key) -> None:
        """The pod was scheduled (assumed): it leaves the queue."""
        queued = self._pods.get(key)
        if queued is not None and queued.where == IN_FLIGHT:
            del self._pods[key]
        self._in_flight.pop(key, None)
        self._forget_old_events()

    def unschedulable(self, queued: QueuedPod, plugins: set[str]) -> None:
        """The attempt found no node. Park the pod, unless something it cares about changed
        while it was being tried; then it only backs off."""
        self._in_flight.pop(queued.info.key, None)
        if self._pods.get(queued.info.key) is not queued:
            return   # deleted meanwhile
        queued.unschedulable_plugins = set(plugins)
        moved = any(self._helps(queued, event) for cycle, event in self._recent_events if cycle >= queued.cycle)
        self._forget_old_events()
        if moved:
            self._to_backoff(queued)
        else:
            self._park(queued)

    def retry(self, queued: QueuedPod) -> None:
        """The attempt failed for another reason (an error, a failed bind): back off and retry,
        unless a newer copy of the pod has been queued meanwhile."""
        key = queued.info.key
        self._in_flight.pop(key, None)
        if self._pods.setdefault(key, queued) is queued:
            queued.unschedulable_plugins = set()
            self._to_backoff(queued)
        self._forget_old_events()

    def on_event(self, event: ClusterEvent) -> int:
        """A cluster change: move parked pods it may help. Returns how many moved."""
        if self._in_flight:
            self._recent_events.append((self._cycle, event))
        if not self._parked:
            return 0
        keys: set[Key] = set()
        for (plugin, index), parked in self._parked_by_interest.items():
            if index < 0:
                keys |= parked
                continue
            interest = self._interests[plugin][index]
            if interest.resource == event.resource and (interest.actions & event.action):
                keys |= parked
        moved = 0
        for key in keys:
            queued = self._pods[key]
            if self._helps(queued, event):
                self._unpark(queued)
                self._to_backoff_or_active(queued)
                moved += 1
        return moved

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    # ------------------------------------------------------------------ internals

    def _helps(self, queued: QueuedPod, event: ClusterEvent) -> bool:
        if not queued.unschedulable_plugins:
            return True
        for plugin in queued.unschedulable_plugins:
            for interest in self._interests.get(plugin, ()):
                if interest.resource == event.resource and (interest.actions & event.action):
                    if interest.hint is None or interest.hint(queued.info, event):
                        return True
        return False

    def _forget_old_events(self) -> None:
        if not self._recent_events:
            return
        oldest = min(self._in_flight.values(), default=self._cycle + 1)
        while self._recent_events and self._recent_events[0][0] < oldest:
            self._recent_events.popleft()

    def _to_active(self, queued: QueuedPod) -> None:
        queued.where = ACTIVE
        queued._version += 1
        heapq.heappush(self._active, (self._sort_key(queued.info, queued.added_at), next(self._seq),
                                      queued._version, queued))
        self._wakeup.set()

    def _to_backoff(self, queued: QueuedPod) -> None:
        delay = min(self._initial_backoff * 2 ** max(queued.attempts - 1, 0), self._max_backoff)
        queued.backoff_until = self._clock() + delay
        queued.where = BACKOFF
        queued._version += 1
        heapq.heappush(self._backoff, (queued.backoff_until, next(self._seq), queued._version, queued))
        self._wakeup.set()

    def _to_backoff_or_active(self, queued: QueuedPod) -> None:
        if queued.backoff_until > self._clock():
            queued.where = BACKOFF
            queued._version += 1
            heapq.heappush(self._backoff, (queued.backoff_until, next(self._seq), queued._version, queued))
            self._wakeup.set()
        else:
            self._to_active(queued)

    def _park(self, queued: QueuedPod) -> None:
        delay = min(self._initial_backoff * 2 ** max(queued.attempts - 1, 0), self._max_backoff)
        queued.backoff_until = self._clock() + delay
        queued.where = UNSCHEDULABLE
        queued._version += 1
        queued.parked_at = self._clock()
        self._parked.add(queued.info.key)
        slots = [("", -1)] if not queued.unschedulable_plugins else [
            (plugin, index) for plugin in queued.unschedulable_plugins
            for index, interest in enumerate(self._interests.get(plugin, ()))
            if interest.only_if is None or interest.only_if(queued.info)]
        for slot in slots:
            self._parked_by_interest.setdefault(slot, set()).add(queued.info.key)
        queued.parked_under = slots

    def _unpark(self, queued: QueuedPod) -> None:
        key = queued.info.key
        if key not in self._parked:
            return
        self._parked.discard(key)
        for slot in queued.parked_under:
            members = self._parked_by_interest.get(slot)
            if members is not None:
                members.discard(key)
                if not members:
                    del self._parked_by_interest[slot]
        queued.parked_under = []

    def _flush(self, now: float) -> None:
        while self._backoff and self._backoff[0][0] <= now:
            _, _, version, queued = heapq.heappop(self._backoff)
            if queued._version == version and queued.where == BACKOFF and queued.info.key in self._pods:
                self._to_active(queued)
        if now >= self._next_flush:
            self._next_flush = now + _FLUSH_INTERVAL
            for key in [k for k in self._parked if now - self._pods[k].parked_at >= self._max_parked]:
                queued = self._pods[key]
                self._unpark(queued)
                self._to_backoff_or_active(queued)
