"""The ReplicaSet controller: keep spec.replicas active pods matching the selector.

Too few: create pods from the template (owned by the ReplicaSet). Too many:
delete the least useful first (unscheduled, not ready, newest; see
pods.deletion_rank). Then report replicas, readyReplicas and
availableReplicas in status. A ReplicaSet being deleted changes no pods: the
garbage collector deletes or orphans them.
"""
import time

from google.protobuf.message import Message

from controlplane.api.v1 import apps_pb2
from controlplane.client import errors
from controlplane.controllers import pods as podutil
from controlplane.controllers.ownership import clone
from controlplane.controllers.podowner import PodOwnerController

REPLICA_FAILURE = "ReplicaFailure"


def replicas_wanted(rs: Message) -> int:
    return rs.spec.replicas if rs.spec.HasField("replicas") else 1


def pods_to_delete(active: list[Message], count: int, now: float | None = None) -> list[Message]:
    """The `count` least useful of `active`."""
    now = time.time() if now is None else now
    return sorted(active, key=lambda p: podutil.deletion_rank(p, now))[:max(count, 0)]


def compute_status(rs: Message, pods: list[Message], *, now: float | None = None,
                   failure: tuple[str, str] | None = None) -> apps_pb2.ReplicaSetStatus:
    """Status from the owned pods; `failure` (reason, message) sets the ReplicaFailure condition."""
    now = time.time() if now is None else now
    status = apps_pb2.ReplicaSetStatus(observed_generation=rs.metadata.generation)
    template_labels = rs.spec.template.metadata.labels.items()
    min_ready = rs.spec.min_ready_seconds
    for pod in pods:  # one pass: a sync of a 1,000-pod ReplicaSet runs this on every pod event
        if not podutil.is_active(pod):
            continue
        status.replicas += 1
        labels = pod.metadata.labels
        status.fully_labeled_replicas += all(labels.get(k) == v for k, v in template_labels)
        ready = podutil.ready_condition(pod)
        if ready is not None and ready.status == "True":
            status.ready_replicas += 1
            since = ready.last_transition_time.seconds
            status.available_replicas += min_ready <= 0 or 0 < since <= now - min_ready
    previous = next((c for c in rs.status.conditions if c.type == REPLICA_FAILURE), None)
    if failure:
        condition = status.conditions.add(type=REPLICA_FAILURE, status="True",
                                          reason=failure[0], message=failure[1])
        if previous is not None and previous.status == "True":
            condition.last_transition_time.CopyFrom(previous.last_transition_time)
        else:
            condition.last_transition_time.seconds = int(now)
    return status


def next_availability_check(rs: Message, pods: list[Message], now: float | None = None) -> float | None:
    """Seconds until some ready pod becomes available (minReadySeconds), or None."""
    if rs.spec.min_ready_seconds <= 0:
        return None
    waits = [w for p in pods if podutil.is_active(p)
             if (w := podutil.seconds_until_available(p, rs.spec.min_ready_seconds, now)) is not None]
    return min(waits) if waits else None


class ReplicaSetController(PodOwnerController):
    name = "replicaset"
    owner_kind = "ReplicaSet"
    workers = 5
    min_sync_interval = 0.1

    async def sync(self, key) -> None:
        rs = self.owner_of_key(key)
        if rs is None:
            return
        pods = await self.claim_pods(rs)
        active = [p for p in pods if podutil.is_active(p)]
        diff = len(active) - replicas_wanted(rs)
        if diff and self.expectations.satisfied(key) and not podutil.is_deleting(rs):
            try:
                if diff < 0:
                    await self.create_pods(rs, -diff)
                else:
                    await self.delete_pods(rs, pods_to_delete(active, diff))
            except errors.ApiError as e:
                await self._write_status(rs, pods, ("FailedCreate" if diff < 0 else "FailedDelete", str(e)))
                raise
        await self._write_status(rs, pods)
        if (wait := next_availability_check(rs, pods)) is not None:
            self.queue.add_after(key, wait + 0.05)

    async def _write_status(self, rs: Message, pods: list[Message],
                            failure: tuple[str, str] | None = None) -> None:
        status = compute_status(rs, pods, failure=failure)
        if status == rs.status:
            return
        new = clone(rs)
        new.status.CopyFrom(status)
        await self.api.update_status(new)
