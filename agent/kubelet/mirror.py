"""Mirror pods: a static pod's reflection in the API server.

A static pod runs on the node's own authority; its mirror only makes it
visible (`cox get pods`) and carries its status. Each pass makes the API
match the static pods: a missing mirror is created, a mirror of an older
version of the manifest (another config hash) or one being deleted is
removed and created again, and a mirror whose static pod is gone is removed.
An ordinary pod that happens to have the mirror's name is never touched.
Deleting a mirror through the API therefore does not stop the pod; removing
its manifest does, as in Kubernetes.
"""
import logging

from google.protobuf.message import Message

from agent.kubelet.static import HASH_ANNOTATION, is_mirror
from controlplane.api.wellknown import MIRROR_POD_ANNOTATION
from controlplane.client import Client
from controlplane.client.errors import AlreadyExists, NotFound

log = logging.getLogger(__name__)


def mirror_of(pod: Message) -> Message:
    mirror = type(pod)()
    mirror.CopyFrom(pod)
    meta = mirror.metadata
    meta.ClearField("uid")
    meta.ClearField("resource_version")
    meta.ClearField("creation_timestamp")
    meta.annotations[MIRROR_POD_ANNOTATION] = pod.metadata.annotations[HASH_ANNOTATION]
    mirror.ClearField("status")
    return mirror


async def sync_mirrors(client: Client, static_pods: dict[str, Message], api_pods: list[Message]) -> None:
    """One pass: make the mirror pods in `api_pods` (this node's) match `static_pods`."""
    pods = client.resource("Pod")
    wanted = {(p.metadata.namespace, p.metadata.name): p for p in static_pods.values()}
    present = {(p.metadata.namespace, p.metadata.name): p for p in api_pods}
    for key, found in present.items():
        static = wanted.get(key)
        stale = static is None or not is_mirror(found) or \
            found.metadata.annotations.get(MIRROR_POD_ANNOTATION) != static.metadata.annotations[HASH_ANNOTATION] or \
            found.metadata.HasField("deletion_timestamp")
        if stale and is_mirror(found):   # a pod of the same name that is not a mirror is left alone
            try:
                await pods.delete(found.metadata.name, namespace=found.metadata.namespace, grace_period_seconds=0,
                                  uid=found.metadata.uid)
            except NotFound:
                pass
            present[key] = None
    for key, static in wanted.items():
        if present.get(key) is None:
            try:
                await pods.create(mirror_of(static))
            except AlreadyExists:
                pass   # the informer has not caught up yet; the next pass checks again
