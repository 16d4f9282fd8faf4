"""VolumeBinding: a pod goes only where its PersistentVolumeClaims' volumes are.

PreFilter reads the pod's claims: a missing claim, or an unbound claim whose
class binds Immediately, keeps the pod waiting (the claim's binding is an
event that brings it back). Filter keeps the nodes every bound volume's node
affinity allows (a local-path volume: its one node). A claim whose class
waits for its first consumer (WaitForFirstConsumer) leaves every node open;
once a node is chosen, Bind writes it on the claim
(volume.kubernetes.io/selected-node) for the provisioner and hands the pod
to the next binder. Unlike Kubernetes the pod is bound without waiting for
the volume: the kubelet waits for the claim to be bound before it mounts.
"""
from google.protobuf.message import Message

from controlplane.api.wellknown import SELECTED_NODE_ANNOTATION
from controlplane.scheduler.framework import (
    SKIP, Action, BindPlugin, Code, EventInterest, FilterPlugin, PreFilterPlugin, Resource, Status, rejection)
from controlplane.scheduler.plugins.nodeaffinity import term_rows
from controlplane.scheduler.podinfo import node_term

REASON = "node(s) had volume node affinity conflict"
UNBOUND = "pod has unbound immediate PersistentVolumeClaims"


class VolumeView:
    """The claims, volumes and classes the scheduler's informers hold."""

    def __init__(self, informers):
        self.claims = informers.informer("PersistentVolumeClaim")
        self.volumes = informers.informer("PersistentVolume")
        self.classes = informers.informer("StorageClass")


def claim_names(pod: Message) -> list[str]:
    return [v.persistent_volume_claim.claim_name for v in pod.spec.volumes if v.HasField("persistent_volume_claim")]


class VolumeBinding(PreFilterPlugin, FilterPlugin, BindPlugin):
    name = "VolumeBinding"

    def __init__(self, handle):
        self._handle = handle

    def pre_filter(self, state, pod, nodes):
        view: VolumeView | None = getattr(self._handle, "volumes", None)
        names = claim_names(pod.pod)
        if not names or view is None:
            return SKIP
        affinities, waiting = [], []
        for name in names:
            claim = view.claims.get(name, pod.namespace)
            if claim is None:
                return Status(Code.UNRESOLVABLE, f'persistentvolumeclaim "{name}" not found')
            if claim.metadata.HasField("deletion_timestamp"):
                return Status(Code.UNRESOLVABLE, f'persistentvolumeclaim "{name}" is being deleted')
            if claim.spec.volume_name:
                volume = view.volumes.get(claim.spec.volume_name)
                if volume is None:
                    return Status(Code.UNRESOLVABLE, f'persistentvolume "{claim.spec.volume_name}" not found')
                terms = volume.spec.node_affinity.required.node_selector_terms
                if terms:
                    affinities.append(tuple(node_term(t) for t in terms))
                continue
            storage_class = view.classes.get(claim.spec.storage_class_name) if claim.spec.storage_class_name else None
            if storage_class is None or storage_class.volume_binding_mode != "WaitForFirstConsumer":
                return Status(Code.UNRESOLVABLE, UNBOUND)
            if not claim.metadata.annotations.get(SELECTED_NODE_ANNOTATION):
                waiting.append(claim)
        state[self.name] = (affinities, waiting)
        return None

    def filter(self, state, pod, nodes):
        affinities, _ = state.get(self.name, ((), ()))
        if not affinities:
            return None
        ok = None
        for terms in affinities:
            rows = term_rows(terms[0], nodes).copy()
            for term in terms[1:]:
                rows |= term_rows(term, nodes)
            ok = rows if ok is None else ok & rows
        return rejection(~ok, REASON)

    async def bind(self, state, pod, node_name):
        _, waiting = state.get(self.name, ((), ()))
        claims = self._handle.client.resource("PersistentVolumeClaim") if waiting else None
        for claim in waiting:
            new = type(claim)()
            new.CopyFrom(claim)
            new.metadata.annotations[SELECTED_NODE_ANNOTATION] = node_name
            await claims.update(new)
        return SKIP

    def events(self):
        return [EventInterest(Resource.PERSISTENT_VOLUME_CLAIM, Action.ADD | Action.UPDATE),
                EventInterest(Resource.PERSISTENT_VOLUME, Action.ADD | Action.UPDATE),
                EventInterest(Resource.STORAGE_CLASS, Action.ADD),
                EventInterest(Resource.NODE, Action.ADD | Action.UPDATE_LABELS)]
