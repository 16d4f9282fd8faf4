"""Docker's event stream, narrowed to the kubelet's own containers.

The kubelet's pod lifecycle event generator relists periodically anyway
(events can be lost across a daemon restart); this stream only makes it
react at once when a container starts or dies instead of at the next relist.
"""
from collections.abc import AsyncIterator
from dataclasses import dataclass

from agent.runtime import labels
from agent.runtime.engine import Engine
from agent.runtime.streams import iterate_in_thread

# Actions that change what the kubelet reports; exec_* and attach are noise.
ACTIONS = ("create", "start", "die", "oom", "destroy", "kill", "stop")


@dataclass(frozen=True)
class ContainerEvent:
    action: str
    container_id: str
    pod_uid: str
    container_name: str


async def container_events(engine: Engine, actions: tuple[str, ...] = ACTIONS) -> AsyncIterator[ContainerEvent]:
    """Events of managed containers from now on, until the caller stops iterating."""
    stream = await engine.call(
        engine.api.events,
        filters={"type": "container", "label": labels.managed_filter(), "event": list(actions)})
    async for event in iterate_in_thread(stream, close=stream.close):
        attributes = (event.get("Actor") or {}).get("Attributes") or {}
        yield ContainerEvent(action=event.get("Action", ""), container_id=event.get("id", ""),
                             pod_uid=attributes.get(labels.POD_UID, ""),
                             container_name=attributes.get(labels.CONTAINER_NAME, ""))
