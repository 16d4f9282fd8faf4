"""What controllers ask about pods and owners: active? ready? available? whose?

Kept in one place so the ReplicaSet, Deployment, Job, Endpoints and node
controllers agree on the words: a pod is *active* while it is neither finished
nor being deleted, *ready* when its Ready condition is True, and *available*
once it has been ready for minReadySeconds (counted in replicaset.compute_status).
"""
import time

from google.protobuf.message import Message

from controlplane.api.kinds import KINDS
from controlplane.api.v1 import meta_pb2

FINISHED_PHASES = ("Succeeded", "Failed")

# Informer index names shared by controllers (each registers the same function).
BY_CONTROLLER = "controller-uid"   # uid of the object's controlling owner
BY_NAMESPACE = "namespace"
ORPHANS = "orphans-by-namespace"   # namespace of objects with no controlling owner
BY_NODE = "node"                   # a pod's spec.nodeName


def controller_ref(obj: Message) -> meta_pb2.OwnerReference | None:
    for ref in obj.metadata.owner_references:
        if ref.controller:
            return ref
    return None


def index_by_controller(obj: Message) -> list[str]:
    ref = controller_ref(obj)
    return [ref.uid] if ref is not None else []


def index_by_namespace(obj: Message) -> list[str]:
    return [obj.metadata.namespace]


def index_orphans(obj: Message) -> list[str]:
    return [obj.metadata.namespace] if controller_ref(obj) is None else []


def index_by_node(pod: Message) -> list[str]:
    return [pod.spec.node_name] if pod.spec.node_name else []


def is_deleting(obj: Message) -> bool:
    return obj.metadata.HasField("deletion_timestamp")


def is_active(pod: Message) -> bool:
    return pod.status.phase not in FINISHED_PHASES and not is_deleting(pod)


def ready_condition(pod: Message):
    return next((c for c in pod.status.conditions if c.type == "Ready"), None)


def is_ready(pod: Message) -> bool:
    condition = ready_condition(pod)
    return condition is not None and condition.status == "True"


def seconds_until_available(pod: Message, min_ready_seconds: int, now: float | None = None) -> float | None:
    """For a ready pod that is not yet available: seconds until it will be; else None."""
    condition = ready_condition(pod)
    if condition is None or condition.status != "True" or min_ready_seconds <= 0:
        return None
    now = time.time() if now is None else now
    left = condition.last_transition_time.seconds + min_ready_seconds - now
    return left if left > 0 else None


def tolerates(toleration: Message, taint: Message) -> bool:
    """Does a pod's toleration tolerate a node's taint (the node lifecycle and DaemonSet controllers)?"""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.operator == "Exists":
        return not toleration.key or toleration.key == taint.key
    return toleration.key == taint.key and toleration.value == taint.value


def restarts(pod: Message) -> int:
    return sum(s.restart_count for s in pod.status.container_statuses)


def owner_reference(owner: Message) -> meta_pb2.OwnerReference:
    """A controlling owner reference to `owner`, blocking its foreground deletion."""
    return meta_pb2.OwnerReference(api_version=owner.api_version, kind=owner.kind,
                                   name=owner.metadata.name, uid=owner.metadata.uid,
                                   controller=True, block_owner_deletion=True)


def pod_from_template(template: Message, owner: Message, *, generate_name: str = ""):
    """A new pod for `owner` (a ReplicaSet or Job) from its pod template."""
    pod = KINDS["Pod"].new()
    meta = pod.metadata
    meta.namespace = owner.metadata.namespace
    meta.generate_name = generate_name or f"{owner.metadata.name}-"
    meta.labels.update(template.metadata.labels)
    meta.annotations.update(template.metadata.annotations)
    meta.finalizers.extend(template.metadata.finalizers)
    meta.owner_references.append(owner_reference(owner))
    pod.spec.CopyFrom(template.spec)
    return pod


def deletion_rank(pod: Message, now: float | None = None) -> tuple:
    """Sort key: pods that sort first are the least useful, deleted first when scaling down.

    Unscheduled before scheduled, Pending before Unknown before Running, not
    ready before ready, ready for less time before longer, more restarts
    before fewer, newer before older (Kubernetes' ActivePods order).
    """
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(pod.status.phase, 0)
    ready = is_ready(pod)
    ready_since = ready_condition(pod).last_transition_time.seconds if ready else 0
    return (bool(pod.spec.node_name), phase_rank, ready, -ready_since, -restarts(pod),
            -pod.metadata.creation_timestamp.seconds, pod.metadata.name)
