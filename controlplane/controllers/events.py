"""Events: what a controller did, recorded as Event objects for `cox describe`.

Recording never blocks or fails a reconcile: `event()` queues the Event and a
writer task sends it. Two limits keep events from becoming the load (a
1,000-pod scale-up would otherwise write 1,000 SuccessfulCreate events):
the same reason and message for the same object again within ten minutes
bumps the count of the existing Event instead of writing a new one, and each
object gets a burst of 25 events, then one per five minutes (Kubernetes'
event correlator does both).
"""
import asyncio
import dataclasses
import logging
import time

from google.protobuf.message import Message

from controlplane.api.kinds import KINDS
from controlplane.client import Client, errors
from controlplane.controllers.pods import object_reference

log = logging.getLogger(__name__)

NORMAL, WARNING = "Normal", "Warning"

_AGGREGATE_SECONDS = 600
_BURST = 25
_REFILL_SECONDS = 300
_QUEUE_SIZE = 1000
_CACHE_LIMIT = 4096


@dataclasses.dataclass
class _Bucket:
    tokens: float
    at: float

    def take(self, now: float) -> bool:
        self.tokens = min(_BURST, self.tokens + (now - self.at) / _REFILL_SECONDS)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class EventRecorder:
    def __init__(self, client: Client, component: str):
        self._events = client.resource("Event")
        self._component = component
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=_QUEUE_SIZE)
        self._buckets: dict[str, _Bucket] = {}
        self._recent: dict[tuple, tuple[Message, float]] = {}  # (uid, type, reason, message) -> (Event, first seen)

    def event(self, obj: Message, event_type: str, reason: str, message: str) -> None:
        """Record that `reason` happened to `obj` (any kind); never raises."""
        now = time.time()
        uid = obj.metadata.uid
        bucket = self._buckets.get(uid)
        if bucket is None:
            if len(self._buckets) > _CACHE_LIMIT:
                self._buckets.clear()
            bucket = self._buckets[uid] = _Bucket(_BURST, now)
        if not bucket.take(now):
            return
        try:
            self._queue.put_nowait((object_reference(obj), event_type, reason, message, now))
        except asyncio.QueueFull:
            log.debug("event dropped, queue full: %s %s", reason, message)

    async def run(self) -> None:
        """Write queued events until cancelled."""
        while True:
            item = await self._queue.get()
            try:
                await self._write(*item)
            except asyncio.CancelledError:
                raise
            except errors.ApiError as e:
                log.debug("event not written: %s", e)
            except Exception:
                log.exception("event not written")

    async def _write(self, ref, event_type: str, reason: str, message: str, now: float) -> None:
        key = (ref.uid, event_type, reason, message)
        seconds = int(now)
        recent = self._recent.get(key)
        if recent is not None and now - recent[1] < _AGGREGATE_SECONDS:
            event = recent[0]
            event.count += 1
            event.last_timestamp.seconds = seconds
            event.metadata.resource_version = ""
            try:
                self._recent[key] = (await self._events.update(event), recent[1])
                return
            except errors.NotFound:
                pass  # expired or deleted: write a new one
        namespace = ref.namespace or "default"
        event = KINDS["Event"].new(
            metadata={"name": f"{ref.name}.{time.time_ns():x}", "namespace": namespace},
            involved_object=ref, reason=reason, message=message, type=event_type, count=1,
            source={"component": self._component}, reporting_component=self._component)
        event.first_timestamp.seconds = event.last_timestamp.seconds = seconds
        if len(self._recent) > _CACHE_LIMIT:
            self._recent.clear()
        self._recent[key] = (await self._events.create(event), now)
