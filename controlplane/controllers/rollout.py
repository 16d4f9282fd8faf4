"""Deployment rollout arithmetic, as pure functions of a Deployment and its ReplicaSets.

The Deployment controller (deployment.py) reads objects from its caches,
asks these functions what to do, and writes the answer; `cox rollout` uses
the same functions to show progress and history. Nothing here talks to the
API, so every rule is unit-tested directly.

Terms, as in Kubernetes: the *new* ReplicaSet is the one whose pod template
equals the Deployment's (ignoring the pod-template-hash label); all others
are *old*. A rolling update never lets the ReplicaSets' replicas add up to
more than replicas + maxSurge, nor the available pods drop below
replicas - maxUnavailable.
"""
import hashlib
import math
import time

from google.protobuf.message import Message

from controlplane.api.kinds import KINDS
from controlplane.api.v1 import apps_pb2
from controlplane.controllers.conditions import condition, set_condition, touch
from controlplane.controllers.pods import owner_reference

POD_TEMPLATE_HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
# Deployment annotations that are not copied onto its ReplicaSets.
_NOT_COPIED = {REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
               "kubectl.kubernetes.io/last-applied-configuration"}

PROGRESSING, AVAILABLE = "Progressing", "Available"
# Progressing condition reasons.
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"

_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


# ------------------------------------------------------------------ counting

def replicas(obj: Message) -> int:
    """spec.replicas of a Deployment or ReplicaSet (1 when unset, as defaulted)."""
    return obj.spec.replicas if obj.spec.HasField("replicas") else 1


def pods_bound(rs: Message) -> int:
    """Most pods `rs` may have right now: its target, or more while it is still scaling down."""
    return max(replicas(rs), rs.status.replicas)


def available(rs: Message) -> int:
    """Available pods of `rs` that will survive its current target."""
    return min(rs.status.available_replicas, replicas(rs))


def scaled(value: Message, total: int, *, round_up: bool) -> int:
    """An IntOrString (google.protobuf.Value) as a count of `total`: 2 -> 2, "25%" of 10 -> 3 or 2."""
    which = value.WhichOneof("kind")
    if which == "number_value":
        return int(value.number_value)
    if which == "string_value" and value.string_value.endswith("%"):
        exact = int(value.string_value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return 0


def fenceposts(d: Message) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) resolved against spec.replicas; never both 0."""
    if d.spec.strategy.type == "Recreate":
        return 0, 0
    rolling = d.spec.strategy.rolling_update
    total = replicas(d)
    surge = scaled(rolling.max_surge, total, round_up=True)
    unavailable = scaled(rolling.max_unavailable, total, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(d: Message) -> int:
    return fenceposts(d)[0]


def max_unavailable(d: Message) -> int:
    if d.spec.strategy.type == "Recreate" or replicas(d) == 0:
        return 0
    return min(fenceposts(d)[1], replicas(d))


# ------------------------------------------------------------------ templates and revisions

def _template_bytes(template: Message) -> bytes:
    copy = type(template)()
    copy.CopyFrom(template)
    copy.metadata.labels.pop(POD_TEMPLATE_HASH, None)
    return copy.SerializeToString(deterministic=True)


def template_hash(template: Message, collision_count: int = 0) -> str:
    """A short, stable name for a pod template (and a collision count to step past clashes)."""
    digest = hashlib.sha256(_template_bytes(template) + str(collision_count).encode()).digest()
    n = int.from_bytes(digest[:5], "big")
    out = []
    while n:
        n, rest = divmod(n, len(_HASH_ALPHABET))
        out.append(_HASH_ALPHABET[rest])
    return "".join(out) or _HASH_ALPHABET[0]


def templates_equal(a: Message, b: Message) -> bool:
    return _template_bytes(a) == _template_bytes(b)


def by_creation(rss: list[Message]) -> list[Message]:
    return sorted(rss, key=lambda rs: (rs.metadata.creation_timestamp.seconds, rs.metadata.name))


def split_new_old(d: Message, rss: list[Message]) -> tuple[Message | None, list[Message]]:
    """(the new ReplicaSet or None, the old ones); the oldest of several matches is the new one."""
    new = next((rs for rs in by_creation(rss) if templates_equal(rs.spec.template, d.spec.template)), None)
    return new, [rs for rs in rss if rs is not new]


def revision(obj: Message) -> int:
    try:
        return int(obj.metadata.annotations.get(REVISION, "0"))
    except ValueError:
        return 0


def max_revision(rss: list[Message]) -> int:
    return max((revision(rs) for rs in rss), default=0)


def copied_annotations(d: Message) -> dict[str, str]:
    return {k: v for k, v in d.metadata.annotations.items() if k not in _NOT_COPIED}


def replicas_annotations(d: Message) -> dict[str, str]:
    return {DESIRED_REPLICAS: str(replicas(d)), MAX_REPLICAS: str(replicas(d) + max_surge(d))}


def new_replica_set(d: Message, *, replicas_count: int, revision_number: int, collision_count: int):
    """The new ReplicaSet for `d`'s template, named <deployment>-<hash>."""
    hash_ = template_hash(d.spec.template, collision_count)
    rs = KINDS["ReplicaSet"].new()
    rs.metadata.name = f"{d.metadata.name}-{hash_}"
    rs.metadata.namespace = d.metadata.namespace
    rs.metadata.labels.update(d.spec.template.metadata.labels)
    rs.metadata.labels[POD_TEMPLATE_HASH] = hash_
    rs.metadata.annotations.update(copied_annotations(d))
    rs.metadata.annotations.update(replicas_annotations(d))
    rs.metadata.annotations[REVISION] = str(revision_number)
    rs.metadata.owner_references.append(owner_reference(d))
    rs.spec.replicas = replicas_count
    rs.spec.min_ready_seconds = d.spec.min_ready_seconds
    rs.spec.selector.CopyFrom(d.spec.selector)
    rs.spec.selector.match_labels[POD_TEMPLATE_HASH] = hash_
    rs.spec.template.CopyFrom(d.spec.template)
    rs.spec.template.metadata.labels[POD_TEMPLATE_HASH] = hash_
    return rs


def rollback_template(rs: Message) -> Message:
    """The pod template to put back into a Deployment to roll back to `rs`."""
    template = type(rs.spec.template)()
    template.CopyFrom(rs.spec.template)
    template.metadata.labels.pop(POD_TEMPLATE_HASH, None)
    return template


# ------------------------------------------------------------------ rolling update

def new_rs_replicas(d: Message, all_rss: list[Message], new_rs: Message | None) -> int:
    """How many replicas the new ReplicaSet should have now."""
    current = replicas(new_rs) if new_rs is not None else 0
    wanted = replicas(d)
    if d.spec.strategy.type == "Recreate":
        return wanted
    if current > wanted:
        return wanted
    ceiling = wanted + max_surge(d)
    in_use = sum(pods_bound(rs) for rs in all_rss)
    if in_use >= ceiling:
        return current
    return current + min(ceiling - in_use, wanted - current)


def old_scale_down(d: Message, all_rss: list[Message], old_rss: list[Message],
                   new_rs: Message | None) -> dict[str, int]:
    """New replica counts (by ReplicaSet name) for old ReplicaSets that may shrink now.

    First shrink old ReplicaSets by their unavailable pods (they add nothing),
    then by as many available ones as keep replicas - maxUnavailable
    available, oldest ReplicaSets first.
    """
    if sum(replicas(rs) for rs in old_rss) == 0:
        return {}
    min_available = replicas(d) - max_unavailable(d)
    new_unavailable = replicas(new_rs) - available(new_rs) if new_rs is not None else 0
    room = sum(replicas(rs) for rs in all_rss) - min_available - new_unavailable
    if room <= 0:
        return {}
    plan: dict[str, int] = {}
    oldest_first = by_creation(old_rss)
    taken = 0
    for rs in oldest_first:
        if taken >= room:
            break
        unhealthy = replicas(rs) - available(rs)
        if replicas(rs) == 0 or unhealthy <= 0:
            continue
        down = min(room - taken, unhealthy)
        plan[rs.metadata.name] = replicas(rs) - down
        taken += down
    spare = sum(available(rs) for rs in all_rss) - min_available
    for rs in oldest_first:
        if spare <= 0:
            break
        count = plan.get(rs.metadata.name, replicas(rs))
        if count == 0:
            continue
        down = min(count, spare)
        plan[rs.metadata.name] = count - down
        spare -= down
    return {name: n for name, n in plan.items()
            if n != replicas(next(rs for rs in old_rss if rs.metadata.name == name))}


# ------------------------------------------------------------------ scaling a deployment

def active(rss: list[Message]) -> list[Message]:
    return [rs for rs in rss if replicas(rs) > 0]


def is_scaling_event(d: Message, rss: list[Message]) -> bool:
    """spec.replicas changed since the active ReplicaSets were last sized for it."""
    for rs in active(rss):
        desired = rs.metadata.annotations.get(DESIRED_REPLICAS)
        if desired is not None and desired != str(replicas(d)):
            return True
    return False


def proportional_scale(d: Message, new_rs: Message | None, old_rss: list[Message]) -> dict[str, int]:
    """New replica counts (by name) that resize the ReplicaSets to a changed spec.replicas.

    One active ReplicaSet (or none) takes the whole count. Mid-rollout, the
    difference to replicas + maxSurge is shared in proportion to current
    sizes, so the rollout keeps its shape; rounding leftovers go to the newest
    (growing) or largest (shrinking) ReplicaSet.
    """
    all_rss = ([new_rs] if new_rs is not None else []) + list(old_rss)
    running = active(all_rss)
    if len(running) <= 1:
        target = running[0] if running else (new_rs or (by_creation(old_rss)[-1] if old_rss else None))
        if target is None or replicas(target) == replicas(d):
            return {}
        return {target.metadata.name: replicas(d)}
    if new_rs is not None and replicas(new_rs) == replicas(d) and available(new_rs) == replicas(d):
        return {rs.metadata.name: 0 for rs in active(old_rss)}
    allowed = replicas(d) + max_surge(d) if replicas(d) > 0 else 0
    current = sum(replicas(rs) for rs in running)
    to_add = allowed - current
    if to_add == 0:
        return {}
    if to_add > 0:
        order = sorted(running, key=lambda rs: rs.metadata.creation_timestamp.seconds, reverse=True)
    else:
        order = sorted(running, key=lambda rs: (replicas(rs), rs.metadata.creation_timestamp.seconds),
                       reverse=True)
    plan = {}
    added = 0
    for rs in order:
        share = int(replicas(rs) * to_add / current)  # toward zero, so the shares never overshoot
        plan[rs.metadata.name] = replicas(rs) + share
        added += share
    first = order[0].metadata.name
    plan[first] += to_add - added
    plan = {name: max(n, 0) for name, n in plan.items()}
    return {name: n for name, n in plan.items()
            if n != replicas(next(rs for rs in running if rs.metadata.name == name))}


# ------------------------------------------------------------------ recreate

def old_pods_running(pods_of_old: list[Message]) -> bool:
    """Recreate waits until no pod of an old ReplicaSet may still be running (terminating ones count)."""
    return any(p.status.phase not in ("Succeeded", "Failed") for p in pods_of_old)


# ------------------------------------------------------------------ status

def is_complete(d: Message, status: Message) -> bool:
    n = replicas(d)
    return (status.updated_replicas == n and status.replicas == n and status.available_replicas == n
            and status.observed_generation >= d.metadata.generation)


def made_progress(old: Message, new: Message) -> bool:
    return (new.updated_replicas > old.updated_replicas
            or new.replicas - new.updated_replicas < old.replicas - old.updated_replicas
            or new.ready_replicas > old.ready_replicas
            or new.available_replicas > old.available_replicas)


def timed_out(d: Message, status: Message, now: float) -> bool:
    current = condition(status, PROGRESSING)
    if current is None or current.reason == NEW_RS_AVAILABLE:
        return False
    if current.reason == TIMED_OUT:
        return True
    return current.last_update_time.seconds + d.spec.progress_deadline_seconds < now


def has_deadline(d: Message) -> bool:
    return d.spec.HasField("progress_deadline_seconds")


def compute_status(d: Message, all_rss: list[Message], new_rs: Message | None, *,
                   started: tuple[str, str] | None = None,
                   now: float | None = None) -> apps_pb2.DeploymentStatus:
    """Counts from the ReplicaSets, and the Available and Progressing conditions.

    `started` (reason, message) records that a rollout began just now (a new
    ReplicaSet created, or an old one brought back): its deadline starts here.
    """
    now = time.time() if now is None else now
    status = apps_pb2.DeploymentStatus()
    status.CopyFrom(d.status)
    status.observed_generation = d.metadata.generation
    status.replicas = sum(rs.status.replicas for rs in all_rss)
    status.updated_replicas = new_rs.status.replicas if new_rs is not None else 0
    status.ready_replicas = sum(rs.status.ready_replicas for rs in all_rss)
    status.available_replicas = sum(rs.status.available_replicas for rs in all_rss)
    status.unavailable_replicas = max(sum(replicas(rs) for rs in all_rss) - status.available_replicas, 0)
    if status.available_replicas >= replicas(d) - max_unavailable(d):
        set_condition(status, AVAILABLE, "True", "MinimumReplicasAvailable",
                      "Deployment has minimum availability.", now)
    else:
        set_condition(status, AVAILABLE, "False", "MinimumReplicasUnavailable",
                      "Deployment does not have minimum availability.", now)
    progressing = condition(status, PROGRESSING)
    if d.spec.paused:
        if progressing is None or progressing.reason != PAUSED:
            set_condition(status, PROGRESSING, "Unknown", PAUSED, "Deployment is paused", now)
        return status
    if progressing is not None and progressing.reason == PAUSED:
        set_condition(status, PROGRESSING, "Unknown", RESUMED, "Deployment is resumed", now)
    if not has_deadline(d) or new_rs is None:
        return status
    name = new_rs.metadata.name
    if started is not None:
        set_condition(status, PROGRESSING, "True", *started, now)
        touch(condition(status, PROGRESSING), int(now))
    if is_complete(d, status):
        set_condition(status, PROGRESSING, "True", NEW_RS_AVAILABLE,
                      f'ReplicaSet "{name}" has successfully progressed.', now)
    elif made_progress(d.status, status):
        set_condition(status, PROGRESSING, "True", RS_UPDATED, f'ReplicaSet "{name}" is progressing.', now)
        touch(condition(status, PROGRESSING), int(now))
    elif timed_out(d, status, now):
        set_condition(status, PROGRESSING, "False", TIMED_OUT,
                      f'ReplicaSet "{name}" has timed out progressing.', now)
    return status


def seconds_to_deadline(d: Message, status: Message, now: float | None = None) -> float | None:
    """When to look again for a timed-out rollout; None when nothing is pending."""
    if not has_deadline(d) or d.spec.paused or is_complete(d, status):
        return None
    current = condition(status, PROGRESSING)
    if current is None or current.reason in (NEW_RS_AVAILABLE, TIMED_OUT):
        return None
    now = time.time() if now is None else now
    return max(current.last_update_time.seconds + d.spec.progress_deadline_seconds - now, 0) + 1


def history_to_delete(d: Message, old_rss: list[Message]) -> list[Message]:
    """Old, scaled-down ReplicaSets beyond spec.revisionHistoryLimit, oldest revision first."""
    if not d.spec.HasField("revision_history_limit"):
        return []
    idle = [rs for rs in old_rss
            if replicas(rs) == 0 and rs.status.replicas == 0
            and rs.metadata.generation <= rs.status.observed_generation
            and not rs.metadata.HasField("deletion_timestamp")]
    extra = len(idle) - d.spec.revision_history_limit
    if extra <= 0:
        return []
    return sorted(idle, key=lambda rs: (revision(rs), rs.metadata.creation_timestamp.seconds))[:extra]


def rollout_message(d: Message) -> tuple[str, bool]:
    """(what `cox rollout status` says, whether the rollout is done); ValueError when it failed."""
    name = d.metadata.name
    status = d.status
    if d.metadata.generation > status.observed_generation:
        return "Waiting for deployment spec update to be observed...", False
    progressing = condition(status, PROGRESSING)
    if progressing is not None and progressing.reason == TIMED_OUT:
        raise ValueError(f'deployment "{name}" exceeded its progress deadline')
    wanted = replicas(d)
    if status.updated_replicas < wanted:
        return (f'Waiting for deployment "{name}" rollout to finish: {status.updated_replicas} out of '
                f'{wanted} new replicas have been updated...'), False
    if status.replicas > status.updated_replicas:
        return (f'Waiting for deployment "{name}" rollout to finish: '
                f'{status.replicas - status.updated_replicas} old replicas are pending termination...'), False
    if status.available_replicas < status.updated_replicas:
        return (f'Waiting for deployment "{name}" rollout to finish: {status.available_replicas} of '
                f'{status.updated_replicas} updated replicas are available...'), False
    return f'deployment "{name}" successfully rolled out', True
