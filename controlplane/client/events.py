"""Recording Events: how components tell users what they did to an object.

    recorder = EventRecorder(client, component="kubelet", host="node1")
    recorder.event(pod, "Normal", "Pulled", 'Container image "busybox" already present')

Recording never blocks or fails the caller: events go through a bounded
queue to a background writer, and are dropped (with a log line) if the API
server is away or the queue is full, as in Kubernetes. A repeat of the same
event (same object, type, reason, message, source) within ten minutes updates
the existing Event's count and lastTimestamp instead of adding another.
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
        self._task: asyncio.Task | None = None

    def event(self, obj: Message, event_type: str, reason: str, message: str) -> None:
        """Record that `reason: message` happened to `obj`. Returns at once."""
        if self._task is None:
            self._task = asyncio.create_task(self._write_loop(), name=f"events-{self._component}")
        try:
            self._queue.put_nowait((reference(obj), event_type, reason, message, time.time()))
        except asyncio.QueueFull:
            log.warning("event dropped (queue full): %s %s", reason, message)

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
                log.warning("event %s for %s/%s not recorded: %s", item[2], item[0].namespace,
                            item[0].name, e)
            finally:
                self._queue.task_done()

    async def _write(self, ref, event_type: str, reason: str, message: str, when: float) -> None:
        key = (ref.uid, ref.kind, ref.namespace, ref.name, event_type, reason, message)
        stamp = Timestamp(seconds=int(when))
        previous = self._recent.get(key)
        if previous and when - previous[1] < _REPEAT_WINDOW_SECONDS:
            event = previous[0]
            event.count += 1
            event.last_timestamp.CopyFrom(stamp)
            try:
                event = await self._events.update(event)
            except errors.NotFound:  # expired or deleted meanwhile: start a new one
                event = await self._create(ref, event_type, reason, message, stamp)
        else:
            event = await self._create(ref, event_type, reason, message, stamp)
        self._recent[key] = (event, when)
        if len(self._recent) > 4 * _QUEUE_SIZE:
            self._forget_old(when)

    async def _create(self, ref, event_type, reason, message, stamp) -> Message:
        event = KINDS["Event"].new(
            metadata={"name": f"{ref.name}.{time.time_ns():x}", "namespace": ref.namespace or "default"},
            involved_object=ref, reason=reason, message=message, type=event_type, count=1,
            source={"component": self._component, "host": self._host},
            reporting_component=self._component, reporting_instance=self._host)
        event.first_timestamp.CopyFrom(stamp)
        event.last_timestamp.CopyFrom(stamp)
        return await self._events.create(event)

    def _forget_old(self, now: float) -> None:
        self._recent = {k: v for k, v in self._recent.items() if now - v[1] < _REPEAT_WINDOW_SECONDS}
