"""StatefulSet rules, as pure functions of a StatefulSet, its pods and its claims.

The StatefulSet controller (statefulset.py) reads its caches, asks `plan`
what to do next and writes the answer; `cox rollout status sts/x` reads
rollout_message. Nothing here talks to the API.

As in Kubernetes: pod `i` is named NAME-i, has hostname NAME-i and subdomain
serviceName (so the headless Service gives it the DNS name
NAME-i.SERVICE.NS.svc), and mounts, for each volumeClaimTemplate T, the claim
T-NAME-i, made before the pod and never deleted with it (they outlive their
pods; whenScaled/whenDeleted: Delete hands them to the garbage collector
through ownerReferences). OrderedReady creates pods one at a time in ordinal
order, each only once the ones before it are Running and Ready, and removes
them from the highest ordinal down, one at a time, only while all the rest
are healthy; Parallel does both all at once. A RollingUpdate replaces, from
the highest ordinal down to `partition`, one pod at a time, each only once
every pod is Running and Ready; OnDelete replaces only pods deleted by
someone else. A pod's revision is its controller-revision-hash label,
NAME-<hash of the template>, also the name of the ControllerRevision that
keeps that template: a missing pod below the partition is made again from
the current (older) revision's template, not the new one.
"""
from dataclasses import dataclass, field

from google.protobuf.message import Message

from controlplane.api.kinds import KINDS
from controlplane.api.v1 import apps_pb2
from controlplane.controllers import pods as podutil
from controlplane.controllers.rollout import template_hash

REVISION_HASH = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


# ------------------------------------------------------------------ identity

def revision(sts: Message) -> str:
    """The update revision's name: NAME-<template hash>."""
    collisions = sts.status.collision_count if sts.status.HasField("collision_count") else 0
    return f"{sts.metadata.name}-{template_hash(sts.spec.template, collisions)}"


def replicas(sts: Message) -> int:
    return sts.spec.replicas if sts.spec.HasField("replicas") else 1


def ordinals(sts: Message) -> range:
    start = sts.spec.ordinals.start
    return range(start, start + replicas(sts))


def pod_name(sts: Message, ordinal: int) -> str:
    return f"{sts.metadata.name}-{ordinal}"


def ordinal_of(sts: Message, pod: Message) -> int | None:
    """The ordinal in a pod's name NAME-i, or None if the name is not of that form."""
    prefix, _, number = pod.metadata.name.rpartition("-")
    if prefix != sts.metadata.name or not number.isdigit() or (len(number) > 1 and number[0] == "0"):
        return None
    return int(number)


def claim_name(sts: Message, template: Message, ordinal: int) -> str:
    return f"{template.metadata.name}-{pod_name(sts, ordinal)}"


def new_claim(sts: Message, template: Message, ordinal: int) -> Message:
    """Claim `template` for pod `ordinal`: the template, named for the pod, labelled with the set's
    selector; owned by the set only when whenDeleted is Delete (then the garbage collector takes it)."""
    claim = KINDS["PersistentVolumeClaim"].new()
    claim.metadata.name = claim_name(sts, template, ordinal)
    claim.metadata.namespace = sts.metadata.namespace
    claim.metadata.labels.update(template.metadata.labels)
    claim.metadata.labels.update(sts.spec.selector.match_labels)
    claim.metadata.annotations.update(template.metadata.annotations)
    claim.spec.CopyFrom(template.spec)
    if sts.spec.persistent_volume_claim_retention_policy.when_deleted == "Delete":
        ref = podutil.owner_reference(sts)
        ref.controller = False
        claim.metadata.owner_references.append(ref)
    return claim


def new_pod(sts: Message, ordinal: int, revision_name: str, template: Message | None = None) -> Message:
    """Pod `ordinal` from `template` (default: the set's): with its identity (name, hostname,
    subdomain, labels) and one persistentVolumeClaim volume per claim template (in place of a
    template volume of that name)."""
    pod = podutil.pod_from_template(template if template is not None else sts.spec.template, sts)
    name = pod_name(sts, ordinal)
    pod.metadata.generate_name = ""
    pod.metadata.name = name
    pod.metadata.labels[REVISION_HASH] = revision_name
    pod.metadata.labels[POD_NAME_LABEL] = name
    pod.metadata.labels[POD_INDEX_LABEL] = str(ordinal)
    pod.spec.hostname = name
    pod.spec.subdomain = sts.spec.service_name
    claimed = {t.metadata.name: claim_name(sts, t, ordinal) for t in sts.spec.volume_claim_templates}
    kept = [v for v in pod.spec.volumes if v.name not in claimed]
    del pod.spec.volumes[:]
    pod.spec.volumes.extend(kept)
    for volume, claim in claimed.items():
        pod.spec.volumes.add(name=volume).persistent_volume_claim.claim_name = claim
    return pod


# ------------------------------------------------------------------ what to do

@dataclass
class Plan:
    create_claims: list[Message] = field(default_factory=list)
    create: list[Message] = field(default_factory=list)   # pods, after their claims
    delete: list[Message] = field(default_factory=list)   # pods
    delete_claims: list[Message] = field(default_factory=list)
    waiting_for: str = ""   # why the plan stops short (for the log), "" if it does not


def is_healthy(pod: Message) -> bool:
    """Running, Ready and not being deleted: what OrderedReady waits for."""
    return pod.status.phase == "Running" and podutil.is_ready(pod) and not podutil.is_deleting(pod)


def revision_for(sts: Message, ordinal: int, update_revision: str,
                 current: tuple[str, Message] | None) -> tuple[str, Message | None]:
    """(revision, template) a new pod `ordinal` is made from: the current revision below a RollingUpdate's
    partition (when its template is known), else the update revision (the set's own template)."""
    strategy = sts.spec.update_strategy
    below = ordinal - sts.spec.ordinals.start < strategy.rolling_update.partition
    if strategy.type == "RollingUpdate" and below and current is not None and current[0] != update_revision:
        return current
    return update_revision, None


def plan(sts: Message, pods: list[Message], claims: dict[str, Message], update_revision: str,
         current: tuple[str, Message] | None = None) -> Plan:
    """The next step. `pods`: the set's pods; `claims`: the namespace's claims by name; `current`: the
    current revision's (name, template), if it differs from the update revision."""
    out = Plan()
    ordered = sts.spec.pod_management_policy != "Parallel"
    wanted = set(ordinals(sts))
    by_ordinal: dict[int, Message] = {}
    strays = []
    for pod in pods:
        ordinal = ordinal_of(sts, pod)
        if ordinal is None:
            strays.append(pod)   # owned but not NAME-i: not ours to run
        else:
            by_ordinal[ordinal] = pod
    out.delete += [p for p in strays if not podutil.is_deleting(p)]

    # replicas: replace finished pods, create missing ones (claims first)
    for ordinal in sorted(wanted):
        pod = by_ordinal.get(ordinal)
        if pod is not None and pod.status.phase in podutil.FINISHED_PHASES and not podutil.is_deleting(pod):
            out.delete.append(pod)
            if ordered:
                return _waiting(out, f"pod {pod.metadata.name} finished; replacing it")
            continue
        if pod is None:
            missing = _claims_for(sts, ordinal, claims)
            if missing is None:
                out.waiting_for = out.waiting_for or f"a claim of pod {pod_name(sts, ordinal)} is being deleted"
                if ordered:
                    return out
                continue
            out.create_claims += missing
            out.create.append(new_pod(sts, ordinal, *revision_for(sts, ordinal, update_revision, current)))
            if ordered:
                return _waiting(out, f"pod {pod_name(sts, ordinal)} created")
            continue
        if ordered and not is_healthy(pod):
            return _waiting(out, f"pod {pod.metadata.name} is not yet Running and Ready")

    # condemned: the highest ordinal first
    if sts.spec.persistent_volume_claim_retention_policy.when_scaled == "Delete":
        out.delete_claims += _scaled_down_claims(sts, by_ordinal, claims, wanted)
    condemned = sorted((o for o in by_ordinal if o not in wanted), reverse=True)
    for ordinal in condemned:
        pod = by_ordinal[ordinal]
        if podutil.is_deleting(pod):
            if ordered:
                return _waiting(out, f"pod {pod.metadata.name} is terminating")
            continue
        if ordered and not all(is_healthy(by_ordinal[o]) for o in by_ordinal if o in wanted):
            return _waiting(out, "scale down waits for every pod to be Running and Ready")
        out.delete.append(pod)
        if ordered:
            return out
    if out.create or out.delete:
        return out

    # the rolling update, from the highest ordinal down to the partition
    strategy = sts.spec.update_strategy
    if strategy.type != "RollingUpdate":
        return out
    partition = strategy.rolling_update.partition
    for ordinal in sorted(wanted, reverse=True):
        if ordinal - sts.spec.ordinals.start < partition:
            break
        pod = by_ordinal.get(ordinal)
        if pod is None:
            continue
        if pod.metadata.labels.get(REVISION_HASH) != update_revision:
            if not podutil.is_deleting(pod):
                out.delete.append(pod)
            return _waiting(out, f"pod {pod.metadata.name} is being replaced")
        if not is_healthy(pod):
            return _waiting(out, f"updated pod {pod.metadata.name} is not yet Running and Ready")
    return out


def _waiting(out: Plan, why: str) -> Plan:
    out.waiting_for = out.waiting_for or why
    return out


def _claims_for(sts: Message, ordinal: int, claims: dict[str, Message]) -> list[Message] | None:
    """The claims pod `ordinal` still needs made; None while one of its claims is being deleted."""
    needed = []
    for template in sts.spec.volume_claim_templates:
        existing = claims.get(claim_name(sts, template, ordinal))
        if existing is None:
            needed.append(new_claim(sts, template, ordinal))
        elif podutil.is_deleting(existing):
            return None
    return needed


def _scaled_down_claims(sts: Message, by_ordinal: dict[int, Message], claims: dict[str, Message],
                        wanted: set[int]) -> list[Message]:
    """whenScaled: Delete: the claims of ordinals above the replicas whose pods are gone."""
    start = sts.spec.ordinals.start
    out = []
    for name, claim in claims.items():
        if podutil.is_deleting(claim):
            continue
        for template in sts.spec.volume_claim_templates:
            prefix = f"{template.metadata.name}-{sts.metadata.name}-"
            number = name[len(prefix):] if name.startswith(prefix) else ""
            if number.isdigit() and int(number) >= start and int(number) not in wanted \
                    and int(number) not in by_ordinal and claim.metadata.labels.items() >= \
                    sts.spec.selector.match_labels.items():
                out.append(claim)
    return out


# ------------------------------------------------------------------ status

def compute_status(sts: Message, pods: list[Message], update_revision: str, now: float) -> apps_pb2.StatefulSetStatus:
    status = apps_pb2.StatefulSetStatus()
    status.CopyFrom(sts.status)
    status.observed_generation = sts.metadata.generation
    status.update_revision = update_revision
    current = sts.status.current_revision or update_revision
    counts = dict.fromkeys(("replicas", "ready", "available", "current", "updated"), 0)
    for pod in pods:
        if ordinal_of(sts, pod) is None or not podutil.is_active(pod):
            continue
        counts["replicas"] += 1
        if podutil.is_ready(pod):
            counts["ready"] += 1
            counts["available"] += podutil.seconds_until_available(pod, sts.spec.min_ready_seconds, now) is None
        label = pod.metadata.labels.get(REVISION_HASH)
        counts["current"] += label == current
        counts["updated"] += label == update_revision
    status.replicas, status.ready_replicas = counts["replicas"], counts["ready"]
    status.available_replicas = counts["available"]
    status.updated_replicas, status.current_replicas = counts["updated"], counts["current"]
    want = replicas(sts)
    if counts["updated"] == want and counts["ready"] == want and counts["replicas"] == want:
        current = update_revision   # the update is complete: it is the current revision now
        status.current_replicas = counts["updated"]
    status.current_revision = current
    return status


def rollout_message(sts: Message) -> tuple[str, bool]:
    """(what `cox rollout status` says, whether the rollout is done); ValueError for OnDelete."""
    if sts.spec.update_strategy.type != "RollingUpdate":
        raise ValueError("rollout status is only available for RollingUpdate strategy type")
    status = sts.status
    if sts.metadata.generation > status.observed_generation:
        return "Waiting for statefulset spec update to be observed...", False
    want = replicas(sts)
    if status.ready_replicas < want:
        return f"Waiting for {want - status.ready_replicas} pods to be ready...", False
    partition = sts.spec.update_strategy.rolling_update.partition
    if partition > 0:
        if status.updated_replicas < want - partition:
            return (f"Waiting for partitioned roll out to finish: {status.updated_replicas} out of "
                    f"{want - partition} new pods have been updated..."), False
        return f"partitioned roll out complete: {status.updated_replicas} new pods have been updated...", True
    if status.update_revision != status.current_revision:
        return (f"waiting for statefulset rolling update to complete {status.updated_replicas} pods at "
                f"revision {status.update_revision}..."), False
    return f"statefulset rolling update complete {status.current_replicas} pods at revision " \
           f"{status.current_revision}...", True


# ------------------------------------------------------------------ revision history

def revision_record(sts: Message, name: str, number: int) -> Message:
    """The ControllerRevision keeping the set's template as revision `name` (owned by the set)."""
    record = KINDS["ControllerRevision"].new()
    record.metadata.name, record.metadata.namespace = name, sts.metadata.namespace
    record.metadata.labels.update(sts.spec.template.metadata.labels)
    record.metadata.labels[REVISION_HASH] = name
    record.metadata.owner_references.append(podutil.owner_reference(sts))
    record.data.spec.template.CopyFrom(sts.spec.template)
    record.revision = number
    return record


def revisions_to_delete(sts: Message, records: list[Message], pods: list[Message], keep: set[str]) -> list[Message]:
    """Old revisions beyond revisionHistoryLimit, oldest first, that no pod and neither the current nor
    the update revision uses."""
    used = keep | {p.metadata.labels.get(REVISION_HASH) for p in pods}
    unused = sorted((r for r in records if r.metadata.name not in used), key=lambda r: r.revision)
    limit = sts.spec.revision_history_limit if sts.spec.HasField("revision_history_limit") else 10
    return unused[:max(len(unused) - limit, 0)]
