"""The shape every controller shares: informers in, a work queue, N workers, sync(key).

A controller registers handlers on shared informers that put keys on its
queue; its workers take keys and call `sync(key)`, which reads the current
state from the informer caches, compares it with what is wanted and acts
through the API. `sync` is level-triggered: it may run any number of times
for a key and must do the right thing each time. When it raises, the key is
retried with back-off; when it wants another look later (a deadline, a
minReadySeconds), it calls `self.queue.add_after(key, seconds)`.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING, Any, Callable, Coroutine, Hashable

from google.protobuf.message import Message

from controlplane.client import Client, InformerFactory, errors
from controlplane.client.informer import Informer, key_of
from controlplane.client.events import EventRecorder
from controlplane.controllers.workqueue import ShutDown, WorkQueue

if TYPE_CHECKING:
    from controlplane.controllers.options import ControllerOptions

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Context:
    """What a controller is built from: the API, the shared informers, options."""
    client: Client
    informers: InformerFactory
    options: ControllerOptions


class Controller:
    name = "controller"
    workers = 2  # a controller may set more; the manager's options may override
    # Seconds between two syncs of one key. A sync that reads N pods on every pod event costs
    # O(N^2) over a scale-up of N pods; waiting a moment lets a burst of events share one sync.
    min_sync_interval = 0.0

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.client = ctx.client
        self.options = ctx.options
        self.recorder = EventRecorder(ctx.client, component=f"{self.name}-controller")
        self.queue = WorkQueue(self.name)
        self._last_sync: dict[Hashable, float] = {}

    # -- to override

    async def sync(self, key: Hashable) -> None:
        raise NotImplementedError

    async def prepare(self) -> None:
        """Runs once the informers are synced and before the first sync (e.g. rebuild state)."""

    def background(self) -> list[Coroutine]:
        """Loops to run beside the workers (periodic checks); default none."""
        return []

    # -- helpers

    def enqueue(self, obj: Message) -> None:
        self.queue.add(key_of(obj))

    def follow(self, informer: Informer, key: Callable[[Message], Any] | None = None) -> None:
        """Queue `key(obj)` (default: the object's own key) on every change of `informer`'s objects."""
        def add(obj):
            if (k := (key or key_of)(obj)) is not None:
                self.queue.add(k)
        informer.add_handler(on_add=add, on_update=lambda _old, new: add(new), on_delete=add)

    # -- running

    async def run(self, workers: int | None = None) -> None:
        """Workers and background loops until cancelled."""
        await self.prepare()
        tasks = [asyncio.create_task(self._worker(), name=f"{self.name}-worker-{i}")
                 for i in range(workers or self.workers)]
        tasks += [asyncio.create_task(loop, name=f"{self.name}-loop") for loop in self.background()]
        try:
            await asyncio.gather(*tasks)
        finally:
            self.queue.shut_down()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.recorder.close()

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            if self._too_soon(key):
                self.queue.done(key)
                continue
            try:
                await self.sync(key)
                self.queue.forget(key)
            except asyncio.CancelledError:
                raise
            except (errors.Conflict, errors.NotFound, errors.AlreadyExists) as e:
                # The cache was behind the server: look again once it has caught up.
                log.debug("%s: %s: %s; retrying", self.name, key, e)
                self.queue.add_rate_limited(key)
            except errors.ApiError as e:
                log.warning("%s: syncing %s: %s", self.name, key, e)
                self.queue.add_rate_limited(key)
            except Exception:
                log.exception("%s: syncing %s failed", self.name, key)
                self.queue.add_rate_limited(key)
            finally:
                self.queue.done(key)
                if self.min_sync_interval:
                    self._remember_sync(key)

    def _remember_sync(self, key: Hashable) -> None:
        now = asyncio.get_running_loop().time()
        self._last_sync[key] = now
        if len(self._last_sync) > 4096:
            self._last_sync = {k: t for k, t in self._last_sync.items() if now - t < self.min_sync_interval}

    def _too_soon(self, key: Hashable) -> bool:
        """If `key` was synced less than min_sync_interval ago, queue it for when it may be, and say so."""
        last = self._last_sync.get(key)
        if last is None:
            return False
        wait = last + self.min_sync_interval - asyncio.get_running_loop().time()
        if wait <= 0:
            del self._last_sync[key]
            return False
        self.queue.add_after(key, wait)
        return True
