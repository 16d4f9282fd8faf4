"""PersistentVolume binding and the local-path provisioner's rules, as pure functions.

The volume controller (persistentvolume.py) reads its caches, asks these
functions what a claim or a volume needs next and writes the answer. As in
Kubernetes' PV controller:

- A claim that names no class gets the default class (the StorageClass
  annotated storageclass.kubernetes.io/is-default-class: "true"; the newest
  if several), as Kubernetes does retroactively since 1.28.
- A claim binds to an existing volume of its class that is Available (or
  pre-bound to it), big enough, with its access modes and matching its
  selector; the smallest such volume wins. With a WaitForFirstConsumer class
  this waits until the scheduler has picked a node for the claim's first
  pod (the volume.kubernetes.io/selected-node annotation), and the volume
  must be reachable from that node.
- Otherwise, when the class's provisioner is ours (coxswain.io/local-path,
  k3s's local-path provisioner in kind), a volume is made for it: a
  directory on the chosen node (hostPath, DirectoryOrCreate, made by the
  kubelet at the first mount), pinned to that node by node affinity,
  pre-bound to the claim, with the class's reclaim policy.
- A bound volume whose claim is gone is Released. Retain keeps it (and its
  data) for an administrator; Delete, for our volumes, is carried out by the
  agent of the volume's node, which removes the directory and then the
  volume (agent/kubelet/localpath.py). A Delete the provisioner cannot carry
  out (a hand-made volume) leaves the volume Failed, as in Kubernetes.
"""
from dataclasses import dataclass
from pathlib import PurePosixPath

from google.protobuf.message import Message

from controlplane.api import localpath, quantity, selectors
from controlplane.api.kinds import KINDS
from controlplane.api.localpath import HOSTNAME_LABEL
from controlplane.api.wellknown import (DEFAULT_CLASS_ANNOTATION, LOCAL_PATH_DIR_ANNOTATION, LOCAL_PATH_PROVISIONER,
                                        PROVISIONED_BY_ANNOTATION, SELECTED_NODE_ANNOTATION)
from controlplane.controllers.daemonplan import node_term_holds

DEFAULT_LOCAL_PATH_DIR = "/var/lib/cox/agent/storage"
LOCAL_PATH_CLASS = "local-path"


# ------------------------------------------------------------------ classes

def default_class(classes: list[Message]) -> Message | None:
    marked = [c for c in classes if c.metadata.annotations.get(DEFAULT_CLASS_ANNOTATION) == "true"]
    return max(marked, key=lambda c: (c.metadata.creation_timestamp.seconds, c.metadata.name), default=None)


def local_path_class() -> Message:
    """The class every cluster starts with (k3s's local-path, default, WaitForFirstConsumer, Delete)."""
    return KINDS["StorageClass"].new(
        metadata={"name": LOCAL_PATH_CLASS, "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
        provisioner=LOCAL_PATH_PROVISIONER, reclaim_policy="Delete", volume_binding_mode="WaitForFirstConsumer")


def class_name(claim: Message) -> str | None:
    """The claim's class: None while unset (the default class will be given), "" for none."""
    return claim.spec.storage_class_name if claim.spec.HasField("storage_class_name") else None


def waits_for_consumer(storage_class: Message | None) -> bool:
    return storage_class is not None and storage_class.volume_binding_mode == "WaitForFirstConsumer"


# ------------------------------------------------------------------ matching

def _size(amounts) -> int:
    return quantity.to_int(amounts.get("storage", "0"))


def volume_reaches(volume: Message, node: Message) -> bool:
    """The volume's node affinity (if any) lets a pod on `node` use it."""
    terms = volume.spec.node_affinity.required.node_selector_terms
    return not terms or any(node_term_holds(term, node) for term in terms)


def is_bound_to(volume: Message, claim: Message) -> bool:
    ref = volume.spec.claim_ref
    return (ref.name == claim.metadata.name and ref.namespace == claim.metadata.namespace
            and (not ref.uid or ref.uid == claim.metadata.uid))


def fits(volume: Message, claim: Message, node: Message | None) -> bool:
    """Could `claim` bind to `volume` (on `node`, for a claim waiting for its first consumer)?"""
    spec = volume.spec
    if spec.claim_ref.name and not is_bound_to(volume, claim):
        return False
    if volume.status.phase in ("Released", "Failed") or volume.metadata.HasField("deletion_timestamp"):
        return False
    if spec.storage_class_name != (class_name(claim) or ""):
        return False
    if claim.spec.volume_name and claim.spec.volume_name != volume.metadata.name:
        return False
    if not set(claim.spec.access_modes) <= set(spec.access_modes):
        return False
    if _size(spec.capacity) < _size(claim.spec.resources.requests):
        return False
    if claim.spec.HasField("selector") and not selectors.from_label_selector(claim.spec.selector).matches(
            volume.metadata.labels):
        return False
    return node is None or volume_reaches(volume, node)


def best_volume(claim: Message, volumes: list[Message], node: Message | None) -> Message | None:
    """The volume `claim` should bind to: one pre-bound to it, else the smallest that fits."""
    candidates = [v for v in volumes if fits(v, claim, node)]
    return min(candidates, key=lambda v: (not v.spec.claim_ref.name, _size(v.spec.capacity), v.metadata.name),
               default=None)


# ------------------------------------------------------------------ what a claim needs

@dataclass(frozen=True)
class ClaimStep:
    action: str   # "none", "default-class", "bind", "provision", "wait", "lost"
    volume: Message | None = None      # bind: the volume; provision: the volume to create
    class_name: str = ""               # default-class: the class to set
    reason: str = ""                   # wait: why


def claim_step(claim: Message, volumes: list[Message], classes: dict[str, Message],
               nodes: dict[str, Message]) -> ClaimStep:
    if claim.metadata.HasField("deletion_timestamp"):
        return ClaimStep("none")
    if claim.spec.volume_name:
        volume = next((v for v in volumes if v.metadata.name == claim.spec.volume_name), None)
        if volume is None:
            return ClaimStep("lost") if claim.status.phase == "Bound" else ClaimStep("wait", reason="volume missing")
        if volume.spec.claim_ref.name and not is_bound_to(volume, claim):
            return ClaimStep("lost") if claim.status.phase == "Bound" else ClaimStep(
                "wait", reason=f"volume {volume.metadata.name} is bound to another claim")
        bound = claim.status.phase == "Bound" and volume.spec.claim_ref.uid == claim.metadata.uid
        return ClaimStep("none") if bound and volume.status.phase == "Bound" else ClaimStep("bind", volume=volume)
    name = class_name(claim)
    if name is None:
        default = default_class(list(classes.values()))
        return ClaimStep("default-class", class_name=default.metadata.name) if default is not None else \
            ClaimStep("wait", reason="no default StorageClass")
    storage_class = classes.get(name) if name else None
    node = None
    if waits_for_consumer(storage_class):
        selected = claim.metadata.annotations.get(SELECTED_NODE_ANNOTATION)
        if not selected:
            return ClaimStep("wait", reason="waiting for first consumer to be created before binding")
        node = nodes.get(selected)
        if node is None:
            return ClaimStep("wait", reason=f'selected node "{selected}" not found')
    volume = best_volume(claim, volumes, node)
    if volume is not None:
        return ClaimStep("bind", volume=volume)
    if name and storage_class is None:
        return ClaimStep("wait", reason=f'storageclass.storage.k8s.io "{name}" not found')
    if storage_class is not None and storage_class.provisioner == LOCAL_PATH_PROVISIONER:
        if node is None:
            return ClaimStep("wait", reason="the local-path provisioner needs volumeBindingMode WaitForFirstConsumer")
        return ClaimStep("provision", volume=local_path_volume(claim, storage_class, node))
    return ClaimStep("wait", reason="no persistent volumes available for this claim and no storage class is set"
                     if not name else f'waiting for a volume to be created by "{storage_class.provisioner}"')


def local_path_volume(claim: Message, storage_class: Message, node: Message) -> Message:
    """The volume the local-path provisioner makes for `claim` on `node`, pre-bound to it."""
    root = node.metadata.annotations.get(LOCAL_PATH_DIR_ANNOTATION) or DEFAULT_LOCAL_PATH_DIR
    name = f"pvc-{claim.metadata.uid}"
    directory = PurePosixPath(root) / f"{name}_{claim.metadata.namespace}_{claim.metadata.name}"
    volume = KINDS["PersistentVolume"].new(metadata={"name": name, "annotations": {
        PROVISIONED_BY_ANNOTATION: LOCAL_PATH_PROVISIONER}})
    spec = volume.spec
    spec.capacity["storage"] = claim.spec.resources.requests["storage"]
    spec.access_modes.extend(claim.spec.access_modes)
    spec.persistent_volume_reclaim_policy = storage_class.reclaim_policy or "Delete"
    spec.storage_class_name = storage_class.metadata.name
    spec.volume_mode = "Filesystem"
    spec.host_path.path = str(directory)
    spec.host_path.type = "DirectoryOrCreate"
    hostname = node.metadata.labels.get(HOSTNAME_LABEL, node.metadata.name)
    spec.node_affinity.required.node_selector_terms.add().match_expressions.add(
        key=HOSTNAME_LABEL, operator="In", values=[hostname])
    ref = spec.claim_ref
    ref.kind, ref.api_version = "PersistentVolumeClaim", "v1"
    ref.namespace, ref.name, ref.uid = claim.metadata.namespace, claim.metadata.name, claim.metadata.uid
    return volume


# ------------------------------------------------------------------ what a volume needs

def volume_phase(volume: Message, claim: Message | None) -> tuple[str, str]:
    """(phase, message) the volume should have, given its claim as the API has it now (None: gone)."""
    ref = volume.spec.claim_ref
    if volume.status.phase in ("Released", "Failed"):
        return volume.status.phase, volume.status.message   # never back to Bound: the data was someone's
    if not ref.name:
        return "Available", ""
    if claim is None or (ref.uid and claim.metadata.uid != ref.uid):
        if not ref.uid:
            return "Available", ""   # pre-bound by name to a claim not made yet
        if volume.spec.persistent_volume_reclaim_policy == "Delete" and not localpath.is_ours(volume):
            return "Failed", "no volume plugin matched: only the local-path provisioner's volumes can be deleted"
        return "Released", ""
    if claim.spec.volume_name == volume.metadata.name:
        return "Bound", ""
    return volume.status.phase or "Pending", ""
