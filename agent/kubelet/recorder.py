"""The kubelet's Events (Pulling, Created, Started, Killing, BackOff, ...).

They go through the client library's EventRecorder (queued, aggregated,
rate-limited per object, never blocking a pod worker). Without an API
server (static pods only) they are logged, which is where they are also
logged when there is one, for the node's own journal.
"""
import logging

from google.protobuf.message import Message

from controlplane.client import Client
from controlplane.client.events import NORMAL, WARNING, EventRecorder

__all__ = ["NORMAL", "WARNING", "Recorder"]

log = logging.getLogger(__name__)

COMPONENT = "kubelet"


class Recorder:
    def __init__(self, client: Client | None, *, host: str) -> None:
        self._events = EventRecorder(client, component=COMPONENT, host=host) if client is not None else None

    def record(self, obj: Message, kind: str, reason: str, message: str, *, field_path: str = "") -> None:
        """Record an event about `obj` (a Pod or the Node); `field_path` names the container."""
        meta = obj.metadata
        log.info("%s %s/%s %s%s: %s", kind, meta.namespace or "-", meta.name, reason,
                 f" ({field_path})" if field_path else "", message)
        if self._events is not None:
            self._events.event(obj, kind, reason, message, field_path=field_path)

    async def flush(self) -> None:
        if self._events is not None:
            await self._events.flush()

    async def stop(self) -> None:
        if self._events is not None:
            await self._events.close()
