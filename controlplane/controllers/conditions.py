"""Status conditions (Available, Progressing, Complete, ...): read one, set one.

Every kind's condition message has type, status, reason, message and
lastTransitionTime; some add lastUpdateTime (Deployment) or lastProbeTime
(Job). Setting a condition moves lastTransitionTime only when its status
changes, and the update/probe time whenever anything about it changes.
"""
from google.protobuf.message import Message


def condition(status: Message, kind: str):
    return next((c for c in status.conditions if c.type == kind), None)


def touch(current: Message, seconds: int) -> None:
    """Record that `current` was (re)confirmed at `seconds`."""
    fields = current.DESCRIPTOR.fields_by_name
    for name in ("last_update_time", "last_probe_time"):
        if name in fields:
            getattr(current, name).seconds = seconds


def set_condition(status: Message, kind: str, state: str, reason: str, message: str, now: float) -> None:
    current = condition(status, kind)
    seconds = int(now)
    if current is None:
        current = status.conditions.add(type=kind)
        current.last_transition_time.seconds = seconds
    elif current.status != state:
        current.last_transition_time.seconds = seconds
    if (current.status, current.reason, current.message) == (state, reason, message):
        return
    current.status, current.reason, current.message = state, reason, message
    touch(current, seconds)
