"""What one pod needs next: a pure function of its spec and what the runtime reports.

The pod worker splits as the proxy does (render apart from apply): `plan`
looks at the pod and at `Facts` (its containers as last seen, plus the few
answers only the node keeps: probe failures, back-off left, whether the pod
network is up) and says which sandbox to create, which containers to start
or kill, which wait in a back-off, and when to look again. It does no I/O
and keeps no state, so it is tested without Docker (tests/kubelet/test_podplan.py);
podworker.py carries a plan out and plans again on what changed.

The rules are Kubernetes' SyncPod:
1. a running sandbox; a dead one is replaced (everything in it stopped
   first) unless the pod's containers are done for good, and so is one
   the agent was to wire into the pod network and did not;
2. init containers, one at a time, each to success; a sidecar (restartPolicy
   Always on an init container, sidecars.py) only to its start, and from
   then on it is kept running like an app container;
3. app containers: start what is missing; restart what exited if the
   restartPolicy says so, once the crash-loop back-off is over; kill what
   failed its liveness or startup probe or no longer matches its spec;
4. a finished pod (phase Succeeded/Failed, or past activeDeadlineSeconds),
   or one being deleted, has everything stopped.

`next_sync` is the one answer to "when to look again": the earliest end of
a back-off or a hold, or the pod's deadline; None when only a change (a
Docker event, a probe, the pod) or the periodic resync should wake it.
"""
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from google.protobuf.message import Message

from agent.kubelet import podspec, sidecars
from agent.kubelet.status import FAILED, TERMINAL
from agent.runtime.types import ContainerStatus, Kind, State

Terminal = tuple[str, str, str]   # (phase, reason, message) of a finished pod


@dataclass(frozen=True)
class Facts:
    """What is known about the pod's containers at one moment, beside its spec."""
    snapshot: tuple[ContainerStatus, ...]   # every attempt of every container, sandboxes too
    terminal: Terminal | None = None        # the pod finished, as the worker recorded it
    deadline_left: float | None = None      # seconds of activeDeadlineSeconds left, None without one
    network_ready: bool = True              # the node's pod network exists
    probe_failures: Mapping[str, str] = field(default_factory=dict)   # running container id → "liveness"/"startup"
    unstarted: frozenset[str] = frozenset()   # running sidecars' ids whose startupProbe has not passed yet
    # exited container id → (its crash-loop back-off in seconds, seconds of it left)
    restart_waits: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    pull_waits: Mapping[str, float] = field(default_factory=dict)     # container name → image pull back-off left
    hold: float = 0.0                       # seconds before a step that failed (sandbox, mount) is tried again
    # running sandboxes the agent was to wire into the pod network and never did: the agent died, or a
    # Docker call timed out, between the sandbox's start and its wiring. They are replaced like dead ones.
    unwired: frozenset[str] = frozenset()


@dataclass(frozen=True)
class NewSandbox:
    attempt: int
    replacing: ContainerStatus | None   # the dead sandbox; its pod's containers are stopped first


@dataclass(frozen=True)
class Start:
    container: Message
    kind: Kind
    attempt: int


@dataclass(frozen=True)
class Kill:
    status: ContainerStatus
    why: str   # for the Killing event


@dataclass(frozen=True)
class Waiting:
    """A container that may not start yet, and for how much longer."""
    container: Message
    seconds: float
    reason: str   # CrashLoopBackOff or ImagePullBackOff
    back_off: float = 0.0   # the whole back-off (crash loops: 10 s, 20 s, ...), for the message


@dataclass(frozen=True)
class Plan:
    terminal: Terminal | None = None        # the pod is finished: stop everything
    network_not_ready: bool = False         # a sandbox is needed but the pod network is not up
    sandbox: NewSandbox | None = None
    running_sandbox: ContainerStatus | None = None   # where starts go and whose containers are probed
    kills: tuple[Kill, ...] = ()
    starts: tuple[Start, ...] = ()
    waiting: tuple[Waiting, ...] = ()
    next_sync: float | None = None

    @property
    def acts(self) -> bool:
        """Something to do now (after which the pod is planned again)."""
        return bool(self.sandbox or self.kills or self.starts)


def by_name(statuses, kind: Kind) -> dict[str, list[ContainerStatus]]:
    """Attempts of each container of one kind, oldest first."""
    found: dict[str, list[ContainerStatus]] = defaultdict(list)
    for status in sorted(statuses, key=lambda s: s.attempt):
        if status.kind is kind:
            found[status.name].append(status)
    return found


def latest_sandbox(snapshot) -> ContainerStatus | None:
    sandboxes = [s for s in snapshot if s.kind is Kind.SANDBOX]
    return max(sandboxes, key=lambda s: s.attempt) if sandboxes else None


def should_restart(policy: str, status: ContainerStatus) -> bool:
    if status.state is State.CREATED:     # created, never started (its kubelet died in between)
        return policy != "Never"
    return policy == "Always" or (policy == "OnFailure" and status.exit_code != 0)


def restart_candidates(pod: Message, snapshot) -> list[ContainerStatus]:
    """Containers in the current sandbox whose latest attempt ended and may run again: the ones
    whose crash-loop back-off the plan needs (Facts.restart_waits)."""
    sandbox = latest_sandbox(snapshot)
    if sandbox is None:
        return []
    here = [s for s in snapshot if s.sandbox_id == sandbox.id]
    found = []
    for kind in (Kind.INIT, Kind.APP):
        for name, attempts in by_name(here, kind).items():
            latest = attempts[-1]
            policy = sidecars.restart_policy(pod, kind, name)
            done = kind is Kind.INIT and policy != sidecars.ALWAYS and latest.state is State.EXITED \
                and latest.exit_code == 0
            if latest.state is not State.RUNNING and not done and should_restart(policy, latest):
                found.append(latest)
    return found


def terminal_of(pod: Message, facts: Facts) -> Terminal | None:
    """The pod's end, if it has come: recorded before, in its phase, or its deadline passed."""
    if facts.terminal is not None:
        return facts.terminal
    if pod.status.phase in TERMINAL:
        return pod.status.phase, pod.status.reason, pod.status.message
    if facts.deadline_left is not None and facts.deadline_left <= 0:
        return FAILED, "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"
    return None


def deletion_grace(pod: Message) -> int:
    """Seconds a deleted pod's containers get: the deletion's grace period, at most the pod's own."""
    grace = podspec.grace_seconds(pod)
    if pod.metadata.HasField("deletion_grace_period_seconds"):
        return min(pod.metadata.deletion_grace_period_seconds, grace)
    return grace


def plan(pod: Message, facts: Facts) -> Plan:
    """The next steps for a live pod (not being deleted)."""
    terminal = terminal_of(pod, facts)
    if terminal is not None:
        return Plan(terminal=terminal)
    sandbox = latest_sandbox(facts.snapshot)
    if sandbox is None or sandbox.state is not State.RUNNING or sandbox.id in facts.unwired:
        if sandbox is not None and sandbox.state is not State.RUNNING and _finished(pod, facts.snapshot, sandbox):
            return Plan(next_sync=facts.deadline_left)
        return _sandbox_plan(pod, facts, sandbox)
    found = _containers_plan(pod, facts, sandbox)
    waits = [w.seconds for w in found.waiting]
    return Plan(running_sandbox=sandbox, kills=found.kills, starts=found.starts, waiting=found.waiting,
                next_sync=_earliest(*waits, facts.hold or None, facts.deadline_left))


def _sandbox_plan(pod: Message, facts: Facts, dead: ContainerStatus | None) -> Plan:
    later = _earliest(facts.hold or None, facts.deadline_left)
    if not pod.spec.host_network and not facts.network_ready:
        return Plan(network_not_ready=True, next_sync=_earliest(HOLD, facts.deadline_left))
    if facts.hold > 0:
        return Plan(next_sync=later)
    return Plan(sandbox=NewSandbox(attempt=dead.attempt + 1 if dead else 0, replacing=dead),
                next_sync=facts.deadline_left)


HOLD = 2.0   # seconds before looking again at a step that cannot be taken yet (the pod network)


@dataclass
class _Found:
    kills: tuple[Kill, ...] = ()
    starts: tuple[Start, ...] = ()
    waiting: tuple[Waiting, ...] = ()


def _containers_plan(pod: Message, facts: Facts, sandbox: ContainerStatus) -> _Found:
    everywhere = {kind: by_name(facts.snapshot, kind) for kind in (Kind.INIT, Kind.APP)}
    here = [s for s in facts.snapshot if s.sandbox_id == sandbox.id]
    current = {kind: by_name(here, kind) for kind in (Kind.INIT, Kind.APP)}
    policy = pod.spec.restart_policy or "Always"
    held = facts.hold > 0
    found = _Found()
    # A main container has run in this sandbox: initialization is over, and only sidecars still matter.
    initialized = bool(current[Kind.APP])

    for container in pod.spec.init_containers:
        latest = _latest(current[Kind.INIT], container.name)
        if sidecars.is_sidecar(container):
            if not _keep_running(container, latest, everywhere, facts, found) and not initialized:
                return found   # the next init container waits until this sidecar has started
            continue
        if initialized or (latest is not None and latest.state is State.EXITED and latest.exit_code == 0):
            continue
        if latest is not None and latest.state is State.RUNNING:
            return found
        if latest is not None and not should_restart(policy, latest):
            return found   # failed for good: the pod fails
        waiting = _waiting(container, latest, facts)
        if waiting is not None:
            found.waiting += (waiting,)
        elif not held:
            found.starts += (_start(container, Kind.INIT, everywhere),)
        return found

    for container in pod.spec.containers:
        latest = _latest(current[Kind.APP], container.name)
        if latest is not None and latest.state is State.RUNNING:
            why = _kill_reason(container, latest, facts)
            if why:
                found.kills += (Kill(latest, why),)   # started again once it has exited: the next plan
            continue
        if latest is not None and not should_restart(policy, latest):
            continue
        waiting = _waiting(container, latest, facts)
        if waiting is not None:
            found.waiting += (waiting,)
        elif not held:
            found.starts += (_start(container, Kind.APP, everywhere),)
    return found


def _keep_running(container: Message, latest: ContainerStatus | None, everywhere, facts: Facts,
                  found: _Found) -> bool:
    """A sidecar runs whatever happens: started again whenever it is not running (after its
    back-off), killed when a probe fails. True when it is running and has started."""
    if latest is not None and latest.state is State.RUNNING:
        why = _kill_reason(container, latest, facts)
        if why:
            found.kills += (Kill(latest, why),)
        return not why and latest.id not in facts.unstarted
    waiting = _waiting(container, latest, facts)
    if waiting is not None:
        found.waiting += (waiting,)
    elif facts.hold <= 0:
        found.starts += (_start(container, Kind.INIT, everywhere),)
    return False


def _kill_reason(container: Message, running: ContainerStatus, facts: Facts) -> str:
    failed = facts.probe_failures.get(running.id)
    if failed:
        return f"Container {container.name} failed {failed} probe, will be restarted"
    if running.spec_hash and running.spec_hash != podspec.spec_hash(container):
        return f"Container {container.name} definition changed, will be restarted"
    return ""


def _waiting(container: Message, latest: ContainerStatus | None, facts: Facts) -> Waiting | None:
    back_off, left = facts.restart_waits.get(latest.id, (0.0, 0.0)) if latest is not None else (0.0, 0.0)
    if left > 0:
        return Waiting(container, left, "CrashLoopBackOff", back_off)
    if facts.pull_waits.get(container.name, 0.0) > 0:
        return Waiting(container, facts.pull_waits[container.name], "ImagePullBackOff")
    return None


def _start(container: Message, kind: Kind, everywhere: dict[Kind, dict[str, list[ContainerStatus]]]) -> Start:
    previous = _latest(everywhere[kind], container.name)
    return Start(container, kind, previous.attempt + 1 if previous else 0)


def _finished(pod: Message, snapshot, sandbox: ContainerStatus) -> bool:
    """The sandbox is gone but the pod's containers are done for good: do not start over."""
    app = by_name([s for s in snapshot if s.sandbox_id == sandbox.id], Kind.APP)
    latest = [_latest(app, c.name) for c in pod.spec.containers]
    return all(s is not None and s.state is State.EXITED and not should_restart(pod.spec.restart_policy, s)
               for s in latest)


def _latest(attempts: dict[str, list[ContainerStatus]], name: str) -> ContainerStatus | None:
    found = attempts.get(name)
    return found[-1] if found else None


def _earliest(*seconds: float | None) -> float | None:
    known = [max(0.0, s) for s in seconds if s is not None]
    return min(known) if known else None
