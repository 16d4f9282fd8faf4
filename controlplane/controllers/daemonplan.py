"""DaemonSet arithmetic, as pure functions of a DaemonSet, the nodes and its pods.

The DaemonSet controller (daemonset.py) reads its caches, asks these
functions what to do and writes the answer; `cox rollout status ds/x` reads
rollout_message. Nothing here talks to the API, so every rule is unit-tested
directly.

As in Kubernetes: a node *should run* a daemon pod when the pod template's
nodeSelector and required node affinity match it and the pod, with the
tolerations every daemon pod gets (daemon_tolerations), tolerates its
NoSchedule and NoExecute taints; a pod already there *may continue* as long
as its NoExecute taints are tolerated. The pod is pinned to its node by a
required node affinity on metadata.name and placed by the scheduler. Pods
are *updated* when their controller-revision-hash label is the hash of the
current template. RollingUpdate replaces them node by node within
maxUnavailable (delete the old pod, then the manage step creates the new
one) or maxSurge (create the new pod beside the old one, delete the old one
once the new one is available); OnDelete creates new pods only where the old
ones were deleted by someone else.
"""
from collections import defaultdict
from dataclasses import dataclass, field

from google.protobuf.message import Message

from controlplane.api.v1 import apps_pb2, core_pb2
from controlplane.controllers import pods as podutil
from controlplane.controllers.rollout import scaled, template_hash

REVISION_HASH = "controller-revision-hash"
NAME_FIELD = "metadata.name"

# (key, effect) of the tolerations Kubernetes adds to every daemon pod, so the pod runs on a
# node that is failing or cordoned and is not evicted from it; the last only with hostNetwork.
_DAEMON_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)
_HOST_NETWORK_TOLERATION = ("node.kubernetes.io/network-unavailable", "NoSchedule")


# ------------------------------------------------------------------ the daemon pod

def current_hash(ds: Message) -> str:
    return template_hash(ds.spec.template, ds.status.collision_count if ds.status.HasField("collision_count") else 0)


def daemon_tolerations(spec: Message) -> list[core_pb2.Toleration]:
    """The template's tolerations plus those every daemon pod gets (not already there)."""
    wanted = list(_DAEMON_TOLERATIONS) + ([_HOST_NETWORK_TOLERATION] if spec.host_network else [])
    out = list(spec.tolerations)
    for key, effect in wanted:
        if not any(t.key == key and t.effect == effect and t.operator == "Exists"
                   and not t.HasField("toleration_seconds") for t in out):
            out.append(core_pb2.Toleration(key=key, operator="Exists", effect=effect))
    return out


def daemon_pod(ds: Message, node_name: str, hash_: str) -> Message:
    """The pod for `node_name`: the template, the revision hash label, the daemon tolerations,
    and a required node affinity on metadata.name (replacing the template's, which matched)."""
    pod = podutil.pod_from_template(ds.spec.template, ds)
    pod.metadata.labels[REVISION_HASH] = hash_
    tolerations = daemon_tolerations(ds.spec.template.spec)
    del pod.spec.tolerations[:]
    pod.spec.tolerations.extend(tolerations)
    required = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    del required.node_selector_terms[:]
    required.node_selector_terms.add().match_fields.add(key=NAME_FIELD, operator="In", values=[node_name])
    return pod


def node_of(pod: Message) -> str:
    """The node a daemon pod is for: where it is bound, else where its node affinity pins it."""
    if pod.spec.node_name:
        return pod.spec.node_name
    required = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    for term in required.node_selector_terms:
        for requirement in term.match_fields:
            if requirement.key == NAME_FIELD and requirement.operator == "In" and len(requirement.values) == 1:
                return requirement.values[0]
    return ""


# ------------------------------------------------------------------ which nodes

def _requirement_holds(requirement: Message, value: str | None) -> bool:
    operator, values = requirement.operator, requirement.values
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and values:
        try:
            number, bound = int(value), int(values[0])
        except ValueError:
            return False
        return number > bound if operator == "Gt" else number < bound
    return False


def node_term_holds(term: Message, node: Message) -> bool:
    """One NodeSelectorTerm against a Node (also a PersistentVolume's node affinity: volumeplan.py)."""
    if not term.match_expressions and not term.match_fields:
        return False  # an empty term matches no node
    labels = node.metadata.labels
    return (all(_requirement_holds(r, labels.get(r.key)) for r in term.match_expressions)
            and all(r.key == NAME_FIELD and _requirement_holds(r, node.metadata.name) for r in term.match_fields))


def selects_node(spec: Message, node: Message) -> bool:
    """The template's nodeSelector and required node affinity (any term) hold for `node`."""
    labels = node.metadata.labels
    if any(labels.get(k) != v for k, v in spec.node_selector.items()):
        return False
    affinity = spec.affinity.node_affinity
    if not affinity.HasField("required_during_scheduling_ignored_during_execution"):
        return True
    terms = affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
    return any(node_term_holds(term, node) for term in terms)


def placement(ds: Message, node: Message, tolerations: list | None = None) -> tuple[bool, bool]:
    """(should run a new pod here, may a pod already here continue); `tolerations`: the daemon
    pod's, when the caller has them already."""
    spec = ds.spec.template.spec
    if not selects_node(spec, node):
        return False, False
    tolerations = daemon_tolerations(spec) if tolerations is None else tolerations

    def tolerated(taint) -> bool:
        return any(podutil.tolerates(t, taint) for t in tolerations)
    continues = all(tolerated(t) for t in node.spec.taints if t.effect == "NoExecute")
    runs = continues and all(tolerated(t) for t in node.spec.taints if t.effect == "NoSchedule")
    return runs, continues


def placements(ds: Message, nodes: list[Message]) -> dict[str, tuple[bool, bool]]:
    """placement() of every node, by name: what one sync decides from."""
    tolerations = daemon_tolerations(ds.spec.template.spec)
    return {node.metadata.name: placement(ds, node, tolerations) for node in nodes}


# ------------------------------------------------------------------ what to do

@dataclass
class Plan:
    create_on: list[str] = field(default_factory=list)      # node names that get a new pod
    delete: list[Message] = field(default_factory=list)     # pods to delete


def by_node(pods: list[Message]) -> dict[str, list[Message]]:
    """Daemon pods that are not being deleted, by node, oldest first (Running before others on a tie)."""
    out: dict[str, list[Message]] = defaultdict(list)
    for pod in pods:
        if not podutil.is_deleting(pod):
            out[node_of(pod)].append(pod)
    for group in out.values():
        group.sort(key=lambda p: (p.metadata.creation_timestamp.seconds, p.metadata.creation_timestamp.nanos,
                                  p.status.phase != "Running", p.metadata.name))
    return out


def surges(ds: Message) -> bool:
    strategy = ds.spec.update_strategy
    return strategy.type == "RollingUpdate" and max_surge(ds, 1) > 0


def max_surge(ds: Message, desired: int) -> int:
    return scaled(ds.spec.update_strategy.rolling_update.max_surge, desired, round_up=True)


def max_unavailable(ds: Message, desired: int) -> int:
    """maxUnavailable resolved against the desired count (0 with a surge, else at least 1)."""
    rolling = ds.spec.update_strategy.rolling_update
    unavailable = scaled(rolling.max_unavailable, desired, round_up=True)
    if unavailable == 0 and max_surge(ds, desired) == 0:
        unavailable = 1
    return unavailable


def manage(ds: Message, placed: dict[str, tuple[bool, bool]], pods: list[Message], hash_: str) -> Plan:
    """Pods to create and delete so each node that should run one has exactly one (two, while a
    surge replaces it) and no other node has any; failed pods are deleted and replaced."""
    plan = Plan()
    grouped = by_node(pods)
    allow_surge = surges(ds)
    for name, (runs, continues) in placed.items():
        here = grouped.get(name, [])
        running = [p for p in here if p.status.phase != "Failed"]
        plan.delete += [p for p in here if p.status.phase == "Failed"]
        if not continues:
            plan.delete += running
        elif runs and not running:
            plan.create_on.append(name)
        elif allow_surge and len(running) > 1:
            newest = next((p for p in running if p.metadata.labels.get(REVISION_HASH) == hash_), None)
            oldest = next((p for p in running if p.metadata.labels.get(REVISION_HASH) != hash_), None)
            plan.delete += [p for p in running if p is not newest and p is not oldest]
        else:
            plan.delete += running[1:]
    for name, here in grouped.items():
        if name not in placed:  # the node is gone (or the pod names none)
            plan.delete += here
    return plan


def is_available(pod: Message, min_ready_seconds: int, now: float) -> bool:
    ready = podutil.ready_condition(pod)
    if ready is None or ready.status != "True":
        return False
    return min_ready_seconds <= 0 or 0 < ready.last_transition_time.seconds <= now - min_ready_seconds


def rolling_update(ds: Message, placed: dict[str, tuple[bool, bool]], pods: list[Message], hash_: str,
                   now: float) -> Plan:
    """The next step of a RollingUpdate, for nodes that should run a pod and have one."""
    grouped = by_node(pods)
    eligible = [name for name, (runs, _) in placed.items() if runs]
    desired = len(eligible)
    min_ready = ds.spec.min_ready_seconds
    plan = Plan()
    if desired == 0:
        return plan
    surge, unavailable_allowed = max_surge(ds, desired), max_unavailable(ds, desired)
    unavailable, in_surge = 0, 0
    must_replace, candidates = [], []   # old pods (no surge) or node names (surge)
    for name in eligible:
        running = [p for p in grouped.get(name, []) if p.status.phase != "Failed"]
        new = next((p for p in running if p.metadata.labels.get(REVISION_HASH) == hash_), None)
        old = next((p for p in running if p.metadata.labels.get(REVISION_HASH) != hash_), None)
        if len(running) > (2 if surge else 1):
            unavailable += 1  # duplicates: the manage step sorts them out first
            continue
        if old is None:
            if new is not None and not is_available(new, min_ready, now):
                unavailable += 1
            continue
        old_ok = is_available(old, min_ready, now)
        if surge == 0:
            if not old_ok:
                must_replace.append(old)
            else:
                candidates.append(old)
        elif new is None:
            if not old_ok:
                unavailable += 1
                must_replace.append(name)
            else:
                candidates.append(name)
        elif is_available(new, min_ready, now):
            plan.delete.append(old)
        else:
            in_surge += 1
    if surge == 0:
        room = max(unavailable_allowed - unavailable, 0)
        plan.delete += must_replace + candidates[:room]
    else:
        room = max(surge - in_surge, 0)
        plan.create_on += must_replace + candidates[:room]
    return plan


# ------------------------------------------------------------------ status

def compute_status(ds: Message, placed: dict[str, tuple[bool, bool]], pods: list[Message], hash_: str,
                   now: float) -> apps_pb2.DaemonSetStatus:
    status = apps_pb2.DaemonSetStatus()
    status.CopyFrom(ds.status)
    status.observed_generation = ds.metadata.generation
    grouped = by_node(pods)
    desired = current = misscheduled = ready = updated = available = 0
    for name, (runs, _) in placed.items():
        here = [p for p in grouped.get(name, []) if p.status.phase != "Failed"]
        desired += runs
        if not here:
            continue
        if not runs:
            misscheduled += 1
            continue
        current += 1
        updated += any(p.metadata.labels.get(REVISION_HASH) == hash_ for p in here)
        ready += any(podutil.is_ready(p) for p in here)
        available += any(is_available(p, ds.spec.min_ready_seconds, now) for p in here)
    status.desired_number_scheduled = desired
    status.current_number_scheduled = current
    status.number_misscheduled = misscheduled
    status.number_ready = ready
    status.updated_number_scheduled = updated
    status.number_available = available
    status.number_unavailable = max(desired - available, 0)
    return status


def next_availability_check(ds: Message, pods: list[Message], now: float) -> float | None:
    """Seconds until some ready pod becomes available (minReadySeconds), or None."""
    waits = [w for p in pods if podutil.is_active(p)
             if (w := podutil.seconds_until_available(p, ds.spec.min_ready_seconds, now)) is not None]
    return min(waits) if waits else None


def rollout_message(ds: Message) -> tuple[str, bool]:
    """(what `cox rollout status` says, whether the rollout is done); ValueError for OnDelete."""
    if ds.spec.update_strategy.type != "RollingUpdate":
        raise ValueError("rollout status is only available for RollingUpdate strategy type")
    name, status = ds.metadata.name, ds.status
    if ds.metadata.generation > status.observed_generation:
        return "Waiting for daemon set spec update to be observed...", False
    desired = status.desired_number_scheduled
    if status.updated_number_scheduled < desired:
        return (f'Waiting for daemon set "{name}" rollout to finish: {status.updated_number_scheduled} out of '
                f"{desired} new pods have been updated..."), False
    if status.number_available < desired:
        return (f'Waiting for daemon set "{name}" rollout to finish: {status.number_available} of '
                f"{desired} updated pods are available..."), False
    return f'daemon set "{name}" successfully rolled out', True
