"""Recording Events about objects: best effort, never in the caller's way.

    recorder = EventRecorder(client, component="default-scheduler")
    recorder.start()
    recorder.event(pod, "Normal", "Scheduled", "Successfully assigned default/web to node-1")

`event()` only queues; a few worker tasks write. Like client-go's
broadcaster, a repeat of the same event for the same object (same type,
reason and message) updates the first one's count and lastTimestamp instead
of adding another, writes are rate-limited (a token bucket), and when the
queue is full new events are dropped and counted: a component under load
must not slow down, or run out of memory, because of its own diary.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import OrderedDict

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from controlplane.api.kinds import KINDS
from controlplane.client import errors
from controlplane.client.client import Client

log = logging.getLogger(__name__)

_REMEMBERED = 4096   # events kept for counting repeats


class EventRecorder:
    def __init__(self, client: Client, *, component: str, host: str = "", qps: float = 50.0, burst: int = 100,
                 queue_size: int = 1000, workers: int = 4):
        self._events = client.resource("Event")
        self._component = component
        self._host = host
        self._queue: asyncio.Queue = asyncio.Queue(queue_size)
        self._rate, self._burst = qps, burst
        self._tokens = float(burst)
        self._refilled = time.monotonic()
        self._workers = workers
        self._tasks: list[asyncio.Task] = []
        self._written: OrderedDict[tuple, Message] = OrderedDict()
        self.dropped = 0
        self.written = 0

    def event(self, obj: Message, event_type: str, reason: str, message: str) -> None:
        """Queue an event about `obj` (Normal or Warning); drops it if the queue is full."""
        try:
            self._queue.put_nowait((obj, event_type, reason, message, _now()))
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped in (1, 100) or self.dropped % 10_000 == 0:
                log.warning("events: queue full, %d dropped so far", self.dropped)

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._work(), name=f"events-{i}") for i in range(self._workers)]

    async def stop(self, *, drain_seconds: float = 0.0) -> None:
        """Stop the workers, first giving queued events up to `drain_seconds` to be written."""
        if drain_seconds > 0:
            deadline = time.monotonic() + drain_seconds
            while not self._queue.empty() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            await self._take_token()
            try:
                await self._write(*item)
                self.written += 1
            except asyncio.CancelledError:
                raise
            except Exception as e:   # events are best effort: log and carry on
                log.debug("event not written: %s", e)

    async def _take_token(self) -> None:
        while True:
            now = time.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self._rate)
            self._refilled = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await asyncio.sleep((1 - self._tokens) / self._rate)

    async def _write(self, obj: Message, event_type: str, reason: str, message: str, when: Timestamp) -> None:
        meta = obj.metadata
        key = (meta.uid, meta.namespace, meta.name, event_type, reason, message)
        earlier = self._written.get(key)
        if earlier is not None:
            repeat = type(earlier)()
            repeat.CopyFrom(earlier)
            repeat.count += 1
            repeat.last_timestamp.CopyFrom(when)
            try:
                self._remember(key, await self._events.update(repeat))
                return
            except (errors.NotFound, errors.Conflict):
                pass   # expired or changed elsewhere: write a new one
        namespace = meta.namespace or "default"
        event = KINDS["Event"].new(
            metadata={"name": f"{meta.name}.{os.urandom(8).hex()}", "namespace": namespace},
            involved_object={"kind": obj.kind or type(obj).__name__, "namespace": meta.namespace,
                             "name": meta.name, "uid": meta.uid, "api_version": obj.api_version,
                             "resource_version": meta.resource_version},
            reason=reason, message=message, type=event_type, count=1,
            source={"component": self._component, "host": self._host},
            reporting_component=self._component, reporting_instance=self._host)
        event.first_timestamp.CopyFrom(when)
        event.last_timestamp.CopyFrom(when)
        self._remember(key, await self._events.create(event))

    def _remember(self, key: tuple, event: Message) -> None:
        self._written[key] = event
        self._written.move_to_end(key)
        if len(self._written) > _REMEMBERED:
            self._written.popitem(last=False)


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp
