"""A work queue of object keys: de-duplicated, one worker per key, retried with back-off.

Controllers do not act on events; they put the key of what changed here and a
worker reconciles that key from the informer caches. So a burst of events for
one object becomes one reconcile, two workers never reconcile the same key at
once (a key added while it is being processed waits until `done`), and a
failing key is retried later and later instead of spinning:

    queue.add(key)                    # from an informer handler
    key = await queue.get()           # in a worker
    try:
        await reconcile(key)
        queue.forget(key)             # success: reset its back-off
    except Exception:
        queue.add_rate_limited(key)   # retry after 5 ms, 10 ms, 20 ms ... up to max_delay
    finally:
        queue.done(key)

client-go's workqueue in small, for one asyncio loop (no locks needed), with
its metrics (controlplane/metrics/workqueue.py).
"""
import asyncio
import collections
import time
from typing import Hashable

from controlplane.metrics.workqueue import QueueMetrics


class ShutDown(Exception):
    """The queue was shut down: the worker should return."""


class WorkQueue:
    def __init__(self, name: str = "", *, base_delay: float = 0.005, max_delay: float = 60.0):
        self.name = name
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._queue: collections.deque = collections.deque()
        self._dirty: set = set()        # queued, or to be queued again once done
        self._processing: set = set()   # handed to a worker, not yet done
        self._failures: dict = {}       # key -> consecutive failures
        self._timers: dict = {}         # key -> (due time, handle) of a delayed add
        self._waiters: collections.deque = collections.deque()
        self._shutting_down = False
        self._added_at: dict = {}       # key -> when it was added (queue_duration)
        self._taken_at: dict = {}       # key -> when a worker took it (work_duration)
        self._metrics = QueueMetrics(self, name or "unnamed")

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, key: Hashable) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        self._metrics.adds.inc()
        self._added_at[key] = time.monotonic()
        if key not in self._processing:
            self._queue.append(key)
            self._wake_one()

    def add_after(self, key: Hashable, delay: float) -> None:
        """Add `key` in `delay` seconds; an earlier pending add for the key wins."""
        if delay <= 0:
            self.add(key)
            return
        if self._shutting_down:
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        pending = self._timers.get(key)
        if pending is not None:
            if pending[0] <= due:
                return
            pending[1].cancel()
        self._timers[key] = (due, loop.call_at(due, self._fire, key))

    def _fire(self, key: Hashable) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: Hashable) -> None:
        """Add `key` after its back-off, which doubles with each failure since `forget`."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        self._metrics.retries.inc()
        self.add_after(key, self.backoff(failures))

    def backoff(self, failures: int) -> float:
        return min(self._base_delay * (2 ** min(failures, 32)), self._max_delay)

    def failures(self, key: Hashable) -> int:
        return self._failures.get(key, 0)

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    async def get(self) -> Hashable:
        """The next key to process; raises ShutDown once the queue is shut down and drained."""
        while not self._queue:
            if self._shutting_down:
                raise ShutDown(self.name)
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        key = self._queue.popleft()
        self._dirty.discard(key)
        self._processing.add(key)
        now = time.monotonic()
        self._metrics.waited.observe(now - self._added_at.pop(key, now))
        self._taken_at[key] = now
        return key

    def done(self, key: Hashable) -> None:
        """The worker finished `key`; if it was added meanwhile, it is queued again."""
        self._processing.discard(key)
        taken = self._taken_at.pop(key, None)
        if taken is not None:
            self._metrics.worked.observe(time.monotonic() - taken)
        if key in self._dirty:
            self._queue.append(key)
            self._wake_one()

    def shut_down(self) -> None:
        """Refuse new keys, drop delayed ones, and release idle workers."""
        self._shutting_down = True
        for _, handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
