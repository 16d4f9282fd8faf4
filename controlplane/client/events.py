"""Recording Events: how components tell users what they did to an object.

    recorder = EventRecorder(client, component="kubelet", host="node1")
    recorder.event(pod, "Normal", "Pulled", 'Container image "busybox" already present')

Recording never blocks or fails the caller: events go through a bounded
queue to a background writer, and are dropped if the API server is away or
the queue is full, as in Kubernetes (counted, and logged at most every ten
seconds, so a burst of drops costs nothing). A repeat of the same event (same
object, type, reason, message, source) within ten minutes updates the
existing Event's count and lastTimestamp instead of adding another. Like
Kubernetes' spam filter, each object gets a burst of 25 events, then one per
five minutes: a 1,000-pod scale-up does not write 1,000 events on one
ReplicaSet.
"""
import asyncio
import logging
import time

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from controlplane.api.kinds import KINDS
from controlplane.api.v1 import meta_pb2
from controlplane.client import errors
from controlplane.client.client import Client

log = logging.getLogger(__name__)

NORMAL, WARNING = "Normal", "Warning"
_REPEAT_WINDOW_SECONDS = 600
_QUEUE_SIZE = 1000
BURST = 25                   # events an object may get at once
REFILL_SECONDS = 300.0       # then one more per this many seconds
_TRACKED_OBJECTS = 10_000    # per-object budgets kept before starting afresh
_DROP_LOG_SECONDS = 10.0


def reference(obj: Message) -> meta_pb2.ObjectReference:
    """An ObjectReference to `obj` (involvedObject of an Event, targetRef of an address)."""
    meta = obj.metadata
    return meta_pb2.ObjectReference(kind=obj.kind or type(obj).__name__, namespace=meta.namespace,
                                    name=meta.name, uid=meta.uid, api_version=obj.api_version,
                                    resource_version=meta.resource_version)


class EventRecorder:
    def __init__(self, client: Client, *, component: str, host: str = ""):
        self._events = client.resource("Event")
        self._component = component
        self._host = host
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=_QUEUE_SIZE)
        self._recent: dict[tuple, tuple[Message, float]] = {}
        self._budgets: dict[str, tuple[float, float]] = {}  # uid -> (tokens, when counted)
        self._task: asyncio.Task | None = None
        self._dropped = 0
        self._drops_logged_at = 0.0

    def event(self, obj: Message, event_type: str, reason: str, message: str, *, field_path: str = "") -> None:
        """Record that `reason: message` happened to `obj`. Returns at once.

        field_path names the part of the object it happened to, as Kubernetes
        does for a pod's containers: spec.containers{web}.
        """
        if not self._within_budget(obj.metadata.uid):
            return
        if self._task is None:
            self._task = asyncio.create_task(self._write_loop(), name=f"events-{self._component}")
        ref = reference(obj)
        ref.field_path = field_path
        try:
            self._queue.put_nowait((ref, event_type, reason, message, time.time()))
        except asyncio.QueueFull:
            self._drop("queue full")

    def _within_budget(self, uid: str) -> bool:
        now = time.monotonic()
        if uid not in self._budgets and len(self._budgets) >= _TRACKED_OBJECTS:
            self._budgets.clear()
        tokens, counted = self._budgets.get(uid, (BURST, now))
        tokens = min(BURST, tokens + (now - counted) / REFILL_SECONDS)
        if tokens < 1:
            self._budgets[uid] = (tokens, now)
            return False
        self._budgets[uid] = (tokens - 1, now)
        return True

    def _drop(self, why: str) -> None:
        self._dropped += 1
        now = time.monotonic()
        if now - self._drops_logged_at >= _DROP_LOG_SECONDS:
            log.warning("%s: %d event(s) dropped (%s)", self._component, self._dropped, why)
            self._dropped, self._drops_logged_at = 0, now

    async def flush(self) -> None:
        """Wait until every event recorded so far has been written (or dropped)."""
        await self._queue.join()

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _write_loop(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                await self._write(*item)
            except errors.ApiError as e:
                self._drop(f"not written: {e.message}")
            finally:
                self._queue.task_done()

    async def _write(self, ref, event_type: str, reason: str, message: str, when: float) -> None:
        key = (ref.uid, ref.kind, ref.namespace, ref.name, ref.field_path, event_type, reason, message)
        stamp = Timestamp(seconds=int(when))
        previous = self._recent.get(key)
        if previous and when - previous[1] < _REPEAT_WINDOW_SECONDS:
            event = previous[0]
            event.count += 1
            event.last_timestamp.CopyFrom(stamp)
            try:
                event = await self._events.update(event)
            except errors.NotFound:  # expired or deleted meanwhile: start a new one
                event = await self._create(ref, event_type, reason, message, when)
        else:
            event = await self._create(ref, event_type, reason, message, when)
        self._recent[key] = (event, when)
        if len(self._recent) > 4 * _QUEUE_SIZE:
            self._forget_old(when)

    async def _create(self, ref, event_type, reason, message, when: float) -> Message:
        """A new Event; eventTime keeps the moment to the microsecond (`cox trace` orders by it),
        first/lastTimestamp to the second, as Kubernetes' do."""
        stamp = Timestamp(seconds=int(when))
        event = KINDS["Event"].new(
            metadata={"name": f"{ref.name}.{time.time_ns():x}", "namespace": ref.namespace or "default"},
            involved_object=ref, reason=reason, message=message, type=event_type, count=1,
            source={"component": self._component, "host": self._host},
            reporting_component=self._component, reporting_instance=self._host)
        event.first_timestamp.CopyFrom(stamp)
        event.last_timestamp.CopyFrom(stamp)
        event.event_time.seconds, event.event_time.nanos = int(when), int(when % 1 * 1e6) * 1000
        return await self._events.create(event)

    def _forget_old(self, now: float) -> None:
        self._recent = {k: v for k, v in self._recent.items() if now - v[1] < _REPEAT_WINDOW_SECONDS}
