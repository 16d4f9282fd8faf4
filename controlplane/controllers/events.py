"""Events from controllers, at most a burst per object.

A 1,000-pod scale-up would otherwise write 1,000 SuccessfulCreate events on
one ReplicaSet, doubling the writes of the scale-up. As Kubernetes' event
spam filter does, each object gets a burst of 25 events and then one per five
minutes; the rest are dropped. Writing (and folding repeats into a count) is
the shared client.events.EventRecorder's job.
"""
import dataclasses
import time

from google.protobuf.message import Message

from controlplane.client.events import EventRecorder

BURST = 25
REFILL_SECONDS = 300.0
_TRACKED_LIMIT = 10_000

@dataclasses.dataclass
class _Bucket:
    tokens: float
    at: float

class LimitedRecorder:
    def __init__(self, recorder: EventRecorder):
        self.recorder = recorder
        self._buckets: dict[str, _Bucket] = {}

    def event(self, obj: Message, event_type: str, reason: str, message: str) -> None:
        now = time.monotonic()
        bucket = self._buckets.get(obj.metadata.uid)
        if bucket is None:
            if len(self._buckets) >= _TRACKED_LIMIT:
                self._buckets.clear()
            bucket = self._buckets[obj.metadata.uid] = _Bucket(BURST, now)
        bucket.tokens = min(BURST, bucket.tokens + (now - bucket.at) / REFILL_SECONDS)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            self.recorder.event(obj, event_type, reason, message)
