"""What differs between kinds when they are written (Kubernetes' "strategies").

The registry does the same thing for every kind; the few places kinds differ
are answered here: what status a new object starts with, whether deletion is
graceful (pods: the kubelet finishes it), and what holds an object back from
deletion (finalizers; a namespace's spec.finalizers too).
"""
import contextlib

from google.protobuf.message import Message

from controlplane.api.kinds import Kind

# Kinds whose status a client may not set on create: the system owns it.
_STATUS_RESET_ON_CREATE = {"Pod", "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "CronJob", "Service",
                           "Namespace", "PersistentVolume", "PersistentVolumeClaim", "PodDisruptionBudget",
                           "NodeCredentialRequest", "ResourceQuota"}

DEFAULT_GRACE_SECONDS = 30


def prepare_status_for_create(kind: Kind, obj: Message) -> None:
    if kind.name not in _STATUS_RESET_ON_CREATE:
        return
    obj.ClearField("status")
    if kind.name == "Pod":
        obj.status.phase = "Pending"
    elif kind.name == "Namespace":
        obj.status.phase = "Active"


def prepare_for_create(kind: Kind, obj: Message) -> None:
    """Set what the system owns on a new object: status, and a namespace's finalizer."""
    prepare_status_for_create(kind, obj)
    if kind.name == "Namespace" and not obj.spec.finalizers:
        obj.spec.finalizers.append("kubernetes")


def pending_finalizers(kind: Kind, obj: Message) -> bool:
    """Does something still have to run before this object may leave the store?"""
    if obj.metadata.finalizers:
        return True
    return kind.name == "Namespace" and bool(obj.spec.finalizers)


def mark_deleting(kind: Kind, obj: Message) -> None:
    """Side effects of deletion starting, beyond deletionTimestamp."""
    if kind.name == "Namespace":
        obj.status.phase = "Terminating"


def grace_period(kind: Kind, obj: Message, requested: int | None) -> int:
    """Seconds the object may take to go away; 0 deletes at once.

    Only pods are deleted gracefully: the kubelet stops the containers, then
    deletes the pod with grace 0. A pod no kubelet runs (unscheduled, or
    already finished) goes at once, as in Kubernetes.
    """
    if kind.name != "Pod":
        return 0
    if not obj.spec.node_name or obj.status.phase in ("Succeeded", "Failed"):
        return 0
    if requested is not None:
        return max(requested, 0)
    if obj.spec.HasField("termination_grace_period_seconds"):
        return obj.spec.termination_grace_period_seconds
    return DEFAULT_GRACE_SECONDS


@contextlib.contextmanager
def without_response_only_fields(obj: Message):
    """While the block runs, `obj` lacks what a response may show once but the store never keeps.

    A NodeCredentialRequest's token is shown to its requester in the create
    response; the store keeps only its hash.
    """
    if obj.DESCRIPTOR.name != "NodeCredentialRequest" or not obj.status.token:
        yield
        return
    token = obj.status.token
    obj.status.token = ""
    try:
        yield
    finally:
        obj.status.token = token
