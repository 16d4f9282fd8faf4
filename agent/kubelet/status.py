"""The API status of a pod, computed from what Docker has and what the kubelet knows.

A pure function of its inputs (no I/O), so every rule can be read and
tested on its own: container states and restart counts from the containers'
attempts, the phase from Kubernetes' rules (kubelet getPhase), and the
conditions with transition times that move only when the value does.
Sidecar init containers (sidecars.py) count as initialized once started,
never decide the phase, and count for readiness.
"""
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from agent.kubelet import sidecars
from agent.runtime.types import ContainerStatus, State
from controlplane.api.v1 import core_pb2

PENDING, RUNNING, SUCCEEDED, FAILED = "Pending", "Running", "Succeeded", "Failed"
TERMINAL = (SUCCEEDED, FAILED)


@dataclass
class ContainerFacts:
    """What the kubelet knows about one container of the spec beyond Docker's records."""
    attempts: list[ContainerStatus] = field(default_factory=list)   # oldest first
    waiting: tuple[str, str] | None = None    # (reason, message) while it is not running
    ready: bool = False                       # readiness probe passed (True without a probe)
    started: bool = True                      # startup probe passed (True without a probe)
    message: str = ""                         # termination message of the latest attempt

    @property
    def latest(self) -> ContainerStatus | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def previous(self) -> ContainerStatus | None:
        return self.attempts[-2] if len(self.attempts) > 1 else None


@dataclass
class PodFacts:
    init: dict[str, ContainerFacts]
    app: dict[str, ContainerFacts]
    pod_ip: str = ""
    host_ip: str = ""
    terminal: tuple[str, str, str] | None = None   # (phase, reason, message) once the pod has finished


def timestamp(when: datetime | None) -> Timestamp | None:
    """Kubernetes' times have whole seconds."""
    return None if when is None else Timestamp(seconds=int(when.timestamp()))


def now() -> datetime:
    return datetime.now(timezone.utc)


def terminated_state(status: ContainerStatus, message: str = "") -> Message:
    if status.oom_killed:
        reason = "OOMKilled"
    elif status.started_at is None and status.error:
        reason = "ContainerCannotRun"
    else:
        reason = "Completed" if status.exit_code == 0 else "Error"
    state = core_pb2.ContainerStateTerminated(
        exit_code=status.exit_code if status.exit_code is not None else 128,
        reason=reason, message=message or status.error, container_id=f"docker://{status.id}")
    for field_name, when in (("started_at", status.started_at), ("finished_at", status.finished_at)):
        if when is not None:
            getattr(state, field_name).CopyFrom(timestamp(when))
    return state


def container_status(name: str, image: str, facts: ContainerFacts, *, pending_reason: str) -> Message:
    """One entry of containerStatuses (or initContainerStatuses)."""
    latest, previous = facts.latest, facts.previous
    out = core_pb2.ContainerStatus(name=name, image=image, restart_count=latest.attempt if latest else 0)
    if latest is not None:
        out.container_id = f"docker://{latest.id}"
        out.image_id = f"docker://{latest.image_id}" if latest.image_id else ""
    running = latest is not None and latest.state is State.RUNNING
    if running:
        out.state.running.started_at.CopyFrom(timestamp(latest.started_at) or timestamp(now()))
        if previous is not None and previous.state is State.EXITED:
            out.last_state.terminated.CopyFrom(terminated_state(previous))
    elif facts.waiting is not None:
        out.state.waiting.reason, out.state.waiting.message = facts.waiting
        if latest is not None and latest.state is State.EXITED:
            out.last_state.terminated.CopyFrom(terminated_state(latest, facts.message))
    elif latest is not None and latest.state is State.EXITED:
        out.state.terminated.CopyFrom(terminated_state(latest, facts.message))
        if previous is not None and previous.state is State.EXITED:
            out.last_state.terminated.CopyFrom(terminated_state(previous))
    else:
        out.state.waiting.reason = pending_reason
    out.started = running and facts.started
    out.ready = running and facts.started and facts.ready
    return out


def _summary(states: Iterable[Message]) -> dict[str, int]:
    """Kubernetes' counting of container states for the phase."""
    counts = dict(running=0, waiting=0, stopped=0, succeeded=0, unknown=0)
    for status in states:
        state = status.state
        if state.HasField("running"):
            counts["running"] += 1
        elif state.HasField("terminated"):
            counts["stopped"] += 1
            counts["succeeded"] += state.terminated.exit_code == 0
        elif state.HasField("waiting"):
            if status.last_state.HasField("terminated"):
                counts["stopped"] += 1
            else:
                counts["waiting"] += 1
        else:
            counts["unknown"] += 1
    return counts


def _init_complete(status: Message, side: frozenset[str]) -> bool:
    if status.name in side:
        return status.started
    return status.state.HasField("terminated") and status.state.terminated.exit_code == 0


def init_done(statuses: list[Message], app: list[Message] = (), side: frozenset[str] = frozenset()) -> bool:
    """Every init container finished (a sidecar: started), or a main container has run already."""
    return any(s.container_id for s in app) or all(_init_complete(s, side) for s in statuses)


def init_failed(statuses: list[Message], restart_policy: str, side: frozenset[str] = frozenset()) -> bool:
    """An init container (not a sidecar: those are always restarted) failed and will not be retried."""
    if restart_policy != "Never":
        return False
    return any(s.state.HasField("terminated") and s.state.terminated.exit_code != 0
               for s in statuses if s.name not in side)


def phase(restart_policy: str, init: list[Message], app: list[Message], side: frozenset[str] = frozenset()) -> str:
    """`side`: the names of the sidecars among `init`."""
    if init_failed(init, restart_policy, side):
        return FAILED
    if not init_done(init, app, side):
        return PENDING
    c = _summary(app)
    if c["waiting"]:
        return PENDING
    if c["running"] and not c["unknown"]:
        return RUNNING
    if not c["running"] and c["stopped"] and not c["unknown"]:
        if restart_policy == "Always":
            return RUNNING
        if c["stopped"] == c["succeeded"]:
            return SUCCEEDED
        return RUNNING if restart_policy == "OnFailure" else FAILED
    return PENDING


def pod_status(pod: Message, facts: PodFacts, previous: Message | None = None) -> Message:
    """The whole PodStatus; conditions keep their transition times while unchanged.

    `previous` is the status this kubelet computed last (else the pod's own),
    the source of the start time and of the conditions' transition times.
    """
    spec, old = pod.spec, previous if previous is not None else pod.status
    restart_policy = spec.restart_policy or "Always"
    side = frozenset(sidecars.names(pod))
    init = [container_status(c.name, c.image, facts.init.get(c.name, ContainerFacts()),
                             pending_reason="PodInitializing" if i else "ContainerCreating")
            for i, c in enumerate(spec.init_containers)]
    pending_app = "PodInitializing" if spec.init_containers and not init_done(init, (), side) \
        else "ContainerCreating"
    app = [container_status(c.name, c.image, facts.app.get(c.name, ContainerFacts()), pending_reason=pending_app)
           for c in spec.containers]
    status = core_pb2.PodStatus(phase=phase(restart_policy, init, app, side), host_ip=facts.host_ip,
                                pod_ip=facts.pod_ip, qos_class=old.qos_class,
                                nominated_node_name=old.nominated_node_name)
    finished = facts.terminal or ((old.phase, old.reason, old.message) if old.phase in TERMINAL else None)
    if finished:   # a finished pod stays finished
        status.phase, status.reason, status.message = finished
    if facts.pod_ip:
        status.pod_ips.add(ip=facts.pod_ip)
    status.start_time.CopyFrom(old.start_time if old.HasField("start_time") else timestamp(now()))
    status.init_container_statuses.extend(init)
    status.container_statuses.extend(app)
    initialized = init_done(init, app, side)
    containers_ready = initialized and all(s.ready for s in (*app, *(s for s in init if s.name in side))) \
        and status.phase not in TERMINAL
    # PodReadyToStartContainers (Kubernetes 1.29+): the sandbox runs with its network, so containers can start.
    wanted = [("PodScheduled", True, ""), ("PodReadyToStartContainers", bool(facts.pod_ip), ""),
              ("Initialized", initialized, "ContainersNotInitialized"),
              ("ContainersReady", containers_ready, "ContainersNotReady"),
              ("Ready", containers_ready, "ContainersNotReady")]
    if status.phase == SUCCEEDED:
        wanted[3:] = [(t, False, "PodCompleted") for t, _, _ in wanted[3:]]
        wanted[2] = ("Initialized", initialized, "PodCompleted")
    previous = {c.type: c for c in old.conditions}
    for kind, ok, reason in wanted:
        condition = status.conditions.add(type=kind, status="True" if ok else "False")
        if not ok:
            condition.reason = reason
            lagging = _lagging(kind, init, app, side)
            if reason in ("ContainersNotInitialized", "ContainersNotReady") and lagging:
                what = "incomplete" if kind == "Initialized" else "unready"
                condition.message = f"containers with {what} status: [{' '.join(lagging)}]"
        before = previous.get(kind)
        if before is not None and before.status == condition.status:
            condition.last_transition_time.CopyFrom(before.last_transition_time)
        else:
            condition.last_transition_time.CopyFrom(timestamp(now()))
    return status


def _lagging(condition: str, init: list[Message], app: list[Message], side: frozenset[str]) -> list[str]:
    """Names of the containers holding a condition back."""
    if condition == "Initialized":
        return [s.name for s in init if not _init_complete(s, side)]
    return [s.name for s in init if s.name in side and not s.ready] + [s.name for s in app if not s.ready]
