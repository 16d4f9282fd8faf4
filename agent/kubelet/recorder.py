"""Events: the story of each pod (Pulling, Created, Started, Killing, BackOff, ...).

Recording never blocks or fails the caller: events go on a queue that one
task writes to the API server. A repeat of the same event for the same
object (same reason and message) updates the first one's count and
lastTimestamp instead of adding another, as Kubernetes' event aggregation
does, so a crash-looping container makes one BackOff event with a growing
count. Without an API server (static pods only), events are logged.
"""
import asyncio
import logging
import secrets

from google.protobuf.message import Message

from agent.kubelet.status import now, timestamp
from controlplane.api.kinds import KINDS
from controlplane.client import Client
from controlplane.client.errors import ApiError, Conflict, NotFound

log = logging.getLogger(__name__)

NORMAL, WARNING = "Normal", "Warning"
COMPONENT = "kubelet"
_QUEUE_LIMIT = 1000


class Recorder:
    def __init__(self, client: Client | None, *, host: str) -> None:
        self._client = client
        self._host = host
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=_QUEUE_LIMIT)
        self._written: dict[tuple, Message] = {}
        self._task: asyncio.Task | None = None

    def record(self, obj: Message, kind: str, reason: str, message: str, *, field_path: str = "") -> None:
        """Queue an event about `obj` (a Pod or Node); returns at once."""
        meta = obj.metadata
        log.info("%s %s/%s %s: %s", kind, meta.namespace or "-", meta.name, reason, message)
        if self._client is None:
            return
        reference = dict(kind=obj.kind or "Pod", namespace=meta.namespace, name=meta.name, uid=meta.uid,
                         api_version=obj.api_version or "v1", field_path=field_path)
        try:
            self._queue.put_nowait((reference, kind, reason, message))
        except asyncio.QueueFull:
            log.warning("event queue full; dropped %s %s", reason, message)

    def start(self) -> None:
        if self._client is not None and self._task is None:
            self._task = asyncio.create_task(self._write_loop(), name="events")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def flush(self) -> None:
        """Wait until every queued event has been written (or given up on)."""
        await self._queue.join()

    async def _write_loop(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                for attempt in range(3):
                    try:
                        await self._write(*item)
                        break
                    except ApiError as e:
                        log.debug("event write failed (%s), attempt %d", e, attempt + 1)
                        await asyncio.sleep(0.5 * (attempt + 1))
                    except Exception:   # a bug loses this event, not every later one
                        log.exception("event write failed")
                        break
            finally:
                self._queue.task_done()

    async def _write(self, reference: dict, kind: str, reason: str, message: str) -> None:
        events = self._client.resource("Event")
        key = (reference["uid"], reference["field_path"], kind, reason, message)
        stamp = timestamp(now())
        earlier = self._written.get(key)
        if earlier is not None:
            earlier.count += 1
            earlier.last_timestamp.CopyFrom(stamp)
            try:
                self._written[key] = await events.update(earlier)
                return
            except (NotFound, Conflict):   # expired, deleted or changed elsewhere: write a new one
                del self._written[key]
        namespace = reference["namespace"] or "default"
        event = KINDS["Event"].new(
            metadata={"name": f"{reference['name']}.{secrets.token_hex(8)}", "namespace": namespace},
            involved_object=reference, reason=reason, message=message, type=kind, count=1,
            source={"component": COMPONENT, "host": self._host},
            reporting_component=COMPONENT, reporting_instance=self._host)
        event.first_timestamp.CopyFrom(stamp)
        event.last_timestamp.CopyFrom(stamp)
        self._written[key] = await events.create(event)
        if len(self._written) > 4 * _QUEUE_LIMIT:
            self._written.pop(next(iter(self._written)))
