"""`cox trace deployment/NAME`: a Deployment's rollout as one timeline.

Pure over the objects the API holds (the Deployment, its ReplicaSets, their
pods, the namespace's Events), like the pod trace (trace_cmd.py), whose Step
and rows it shares: the deployment-controller's ScalingReplicaSet Events, each
ReplicaSet's creation and its replicaset-controller Events (SuccessfulCreate
is a pod's "created" step, SuccessfulDelete its "deleted" one), and per pod one
compact line per milestone: scheduled to which node (the scheduler's Event),
started (the kubelet's last first-Started of its containers), Ready (its
condition). A pod already gone is followed through the Events that still name
it; one whose controller's Event has expired falls back on its own timestamps.
"""
import dataclasses
import re

from google.protobuf.message import Message

from controlplane.cli.tracesteps import Step, event_step, seconds, ordered

REVISION = "deployment.kubernetes.io/revision"
POD_NAMED = re.compile(r"^(?:Created|Deleted) pod: (\S+)$")
ASSIGNED_TO = re.compile(r" to (\S+)$")


@dataclasses.dataclass(frozen=True)
class _Pod:
    """What is known of one pod: its object while it exists, and the Events naming it."""
    name: str
    obj: Message | None
    events: list


def _owned_by(obj: Message, uids: set[str]) -> bool:
    return any(ref.controller and ref.uid in uids for ref in obj.metadata.owner_references)


def _named_pod(event: Message) -> str:
    found = POD_NAMED.match(event.message)
    return found.group(1) if found else ""


def _timed(event: Message) -> float:
    return seconds(event.event_time) or seconds(event.first_timestamp) or 0.0


def _pod_steps(pod: _Pod, *, announced: set[str]) -> list[Step]:
    """One pod's milestones; `announced` holds the reasons (SuccessfulCreate/Delete) its ReplicaSet's Events
    already show."""
    name, obj, steps = pod.name, pod.obj, []
    if "SuccessfulCreate" not in announced and obj is not None:
        steps.append(Step(seconds(obj.metadata.creation_timestamp), False, "api-server", f"pod {name} created"))
    scheduled = next((e for e in sorted(pod.events, key=_timed) if e.reason == "Scheduled"), None)
    if scheduled is not None:
        node = obj.spec.node_name if obj is not None else ""
        node = node or (ASSIGNED_TO.search(scheduled.message) or [None, ""])[1]
        where = f" to {node}" if node else ""
        steps.append(dataclasses.replace(event_step(scheduled), what=f"pod {name} scheduled{where}"))
    started = {}
    for event in sorted(pod.events, key=_timed):
        if event.reason == "Started":
            started.setdefault(event.involved_object.field_path, event)
    if started:
        last = max(started.values(), key=_timed)
        steps.append(dataclasses.replace(event_step(last), what=f"pod {name} started"))
    elif obj is not None and obj.status.container_statuses and \
            all(c.state.HasField("running") for c in obj.status.container_statuses):
        at = max(seconds(c.state.running.started_at) or 0.0 for c in obj.status.container_statuses)
        steps.append(Step(at or None, False, "pod status", f"pod {name} started", late=True))
    if obj is not None:
        for condition in obj.status.conditions:
            if condition.type == "Ready" and condition.status == "True":
                steps.append(Step(seconds(condition.last_transition_time), False, "pod status",
                                  f"pod {name} Ready", late=True))
        if "SuccessfulDelete" not in announced and obj.metadata.deletion_timestamp.seconds:
            steps.append(Step(seconds(obj.metadata.deletion_timestamp), False, "api-server",
                              f"pod {name} deleted (terminating)"))
    return steps


def timeline(deployment: Message, replicasets: list[Message], pods: list[Message],
             events: list[Message]) -> list[Step]:
    """The rollout's steps in time order. `replicasets`, `pods` and `events` may hold others' too (a
    namespace's listing): only the Deployment's ReplicaSets and their pods are followed."""
    mine = [rs for rs in replicasets if _owned_by(rs, {deployment.metadata.uid})]
    rs_uids = {rs.metadata.uid for rs in mine}
    mine_events = [e for e in events if e.involved_object.uid == deployment.metadata.uid]
    steps = []
    for rs in mine:
        revision = rs.metadata.annotations.get(REVISION, "?")
        scaled_up = [event_step(e).at for e in mine_events
                     if e.message.startswith(f"Scaled up replica set {rs.metadata.name} to ")]
        steps.append(Step(seconds(rs.metadata.creation_timestamp), False, "api-server",
                          f"Created: replicaset {rs.metadata.name} stored (revision {revision})",
                          by=min(filter(None, scaled_up), default=None)))
    followed: dict[str, _Pod] = {p.metadata.name: _Pod(p.metadata.name, p, []) for p in pods
                                 if _owned_by(p, rs_uids)}
    announced: dict[str, set[str]] = {}
    for event in events:
        involved = event.involved_object
        if involved.uid == deployment.metadata.uid or involved.uid in rs_uids:
            steps.append(event_step(event))
            if name := _named_pod(event):
                followed.setdefault(name, _Pod(name, None, []))
                announced.setdefault(name, set()).add(event.reason)
    for event in events:
        involved = event.involved_object
        if involved.kind == "Pod" and involved.name in followed:
            pod = followed[involved.name]
            if pod.obj is None or not involved.uid or involved.uid == pod.obj.metadata.uid:
                pod.events.append(event)
    for pod in followed.values():
        steps.extend(_pod_steps(pod, announced=announced.get(pod.name, set())))
    return ordered(steps)


def summary(deployment: Message, steps: list[Step]) -> str:
    """One line: the revision, the replicas ready and updated of those wanted, and how long from the first
    step to the last."""
    d, status = deployment, deployment.status
    timed = [s.at for s in steps if s.at is not None]
    took = f", {max(timed) - min(timed):.1f}s from first step to last" if timed else ""
    return (f"deployment {d.metadata.namespace}/{d.metadata.name} revision {d.metadata.annotations.get(REVISION, '?')}:"
            f" {status.ready_replicas}/{d.spec.replicas} ready, {status.updated_replicas} updated{took}")
