"""A thread pool whose idle threads go away.

concurrent.futures' ThreadPoolExecutor keeps every thread it ever started:
after one burst of 30 pod starts and 30 deletions, the agent's two Docker
pools hold 32 threads for good, each with its stack pages, thread state and
a keep-alive connection (~2 MB together; bench/agent_memory_bench.py). Here
a thread starts when work arrives and none is idle (up to `max_workers`, as
there), and ends after `idle_seconds` without work.
"""
from __future__ import annotations

import itertools
import queue
import threading
from concurrent.futures import Executor, Future


class ElasticThreadPool(Executor):
    """Counted under one lock: `_idle`, threads waiting for work no queued item is meant for yet;
    `_backlog`, queued items no thread was waiting or started for (all were busy). Every queued
    item is thus one that an idle thread was claimed for, a new thread was started for, or a busy
    thread takes next, so a thread may leave whenever an unclaimed idle one is counted."""

    def __init__(self, max_workers: int, *, thread_name_prefix: str, idle_seconds: float = 30.0) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._max = max_workers
        self._prefix = thread_name_prefix
        self._idle_seconds = idle_seconds
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._backlog = 0
        self._running: set[threading.Thread] = set()
        self._shutdown = False
        self._names = itertools.count()

    @property
    def threads(self) -> int:
        return len(self._running)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._work.put((future, fn, args, kwargs))
            if self._idle:
                self._idle -= 1
            elif len(self._running) < self._max:
                thread = threading.Thread(target=self._run, name=f"{self._prefix}_{next(self._names)}", daemon=True)
                self._running.add(thread)
                thread.start()
            else:
                self._backlog += 1
        return future

    def _run(self) -> None:
        first = True
        while True:
            item = self._work.get() if first else self._next()
            first = False
            if item is None:        # idle too long, or shut down
                with self._lock:
                    self._running.discard(threading.current_thread())
                return
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as e:  # noqa: BLE001 - the caller's, through its future
                    future.set_exception(e)
            del item, future, fn, args, kwargs   # nothing of the call kept alive while idle

    def _next(self):
        """The next item for a thread done with its last; None when it should end."""
        with self._lock:
            meant_for_us = self._backlog > 0
            if meant_for_us:
                self._backlog -= 1
            else:
                self._idle += 1
        if meant_for_us:
            return self._work.get()
        while True:
            try:
                return self._work.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._idle:          # else an item is on its way to a waiting thread: wait on
                        self._idle -= 1
                        return None

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while True:
                    try:
                        item = self._work.get_nowait()
                    except queue.Empty:
                        break
                    item[0].cancel()
                self._backlog = 0
            running = list(self._running)
            for _ in running:
                self._work.put(None)
        if wait:
            for thread in running:
                thread.join()
