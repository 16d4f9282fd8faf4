"""One pod's worker: carries out the pod's plan (podplan.py), then says how it went.

Level-triggered, like every Kubernetes controller: each sync takes what
Docker has for the pod right now (all attempts of all its containers, by
label, from the PLEG's cache), asks `podplan.plan` what is missing, does it,
and plans again on the result until nothing is left to do now; then it
tidies up and reports the pod's status. It runs again whenever Docker, a
probe or the pod changes, when the plan's `next_sync` comes, and every
RESYNC seconds anyway.

The worker is the thin executor; each kind of step has a room of its own:
the sandbox (podsandbox.py), starting a container with its image pull,
environment and postStart hook (starting.py), stopping with preStop hooks
and grace periods (stopping.py), volumes (volumes.py). What stays here is
the loop, the order of the steps, tidying older attempts (each container's
latest instance and the one before it are kept, for lastState and `logs
--previous`; older ones and dead sandboxes go), and the status report.

Deletion: the pod's containers are stopped within its grace period
(sidecars after the main containers), its final status is reported, the
API deletion is finished, and when the pod is gone everything it had on the
node is removed.
"""
import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from google.protobuf.message import Message

from agent.kubelet import podplan, podspec
from agent.kubelet.backoff import BackOff
from agent.kubelet.objects import ObjectSource
from agent.kubelet.pleg import ContainerCache
from agent.kubelet.podplan import Facts, Plan, by_name
from agent.kubelet.podsandbox import PodSandbox, SandboxNetwork
from agent.kubelet.prober import ProbeManager
from agent.kubelet.pullsecrets import NodeKeyring
from agent.kubelet.recorder import NORMAL, WARNING, Recorder
from agent.kubelet.starting import Starter, message_file
from agent.kubelet.status import TERMINAL, ContainerFacts, PodFacts, now, pod_status
from agent.kubelet.stopping import Stopper
from agent.kubelet.volumes import MountFailed, PodVolumes
from agent.runtime import Runtime
from agent.runtime.errors import RuntimeFailure
from agent.runtime.types import ContainerStatus, Kind, State
from controlplane.client.errors import ApiError
from controlplane.metrics import kubelet as metrics

log = logging.getLogger(__name__)
RUNNING = "Running"

RESYNC = 10.0           # seconds between syncs when nothing happens
RETRY = 2.0             # seconds before retrying after a failed step (mount, sandbox, the API)
MESSAGE_LIMIT = 4096    # bytes of a termination message, as Kubernetes
MAX_STEPS = 8           # plan-and-act rounds in one sync (a container that exits at once restarts once)


@dataclass
class NodeContext:
    """What every pod worker on this node shares."""
    runtime: Runtime
    cache: ContainerCache
    volumes: PodVolumes
    objects: ObjectSource
    probes: ProbeManager
    backoff: BackOff
    recorder: Recorder
    dns: podspec.DnsSettings
    host_ip: str = ""
    volume_refresh: float = 60.0    # seconds between projections of ConfigMap and Secret volumes
    network_ready: Callable[[], bool] = lambda: True   # the node's pod network exists: sandboxes may join it
    network: SandboxNetwork | None = None   # wires sandboxes made with network_mode=none; None: Docker does
    keyring: NodeKeyring | None = None      # the node's own registry credentials, after the pods' own


StatusSink = Callable[[Message, Message], None]            # (pod, its new status)
Finalizer = Callable[[Message], Awaitable[bool]]           # finish the API deletion; True when done


class PodWorker:
    def __init__(self, ctx: NodeContext, uid: str, *, on_status: StatusSink, finalize: Finalizer) -> None:
        self.ctx = ctx
        self.uid = uid
        self.pod: Message | None = None        # desired; None once the pod is gone from every source
        self.last_pod: Message | None = None   # the last desired pod seen (for the final clean-up)
        self._on_status = on_status
        self._finalize = finalize
        self._wake = asyncio.Event()
        self._waiting: dict[str, tuple[str, str]] = {}     # container → (reason, message)
        self._terminal: podplan.Terminal | None = None     # (phase, reason, message) once finished
        self._stopper = Stopper(uid=uid, runtime=ctx.runtime, cache=ctx.cache, recorder=ctx.recorder,
                                host_ip=ctx.host_ip)
        self._starter = Starter(uid=uid, runtime=ctx.runtime, cache=ctx.cache, recorder=ctx.recorder,
                                objects=ctx.objects, volumes=ctx.volumes, host_ip=ctx.host_ip,
                                stopper=self._stopper, waiting=self._waiting, keyring=ctx.keyring)
        self._sandbox = PodSandbox(uid=uid, runtime=ctx.runtime, cache=ctx.cache, network=ctx.network,
                                   dns=ctx.dns)
        self._last_status: Message | None = None
        self._finalized = False                # the API deletion has been finished
        self._hold_until = 0.0                 # monotonic time before which a failed step is not retried
        self._volumes: dict[str, str] | None = None
        self._volumes_for: tuple | None = None   # the pod's labels and annotations the volumes were set up with
        self._next_refresh = 0.0
        self._seen_at: float | None = time.monotonic()   # until the pod is first seen Running (pod start)
        self.task: asyncio.Task | None = None

    # -- driving

    def update(self, pod: Message | None, *, wake: bool = True) -> None:
        if pod is not None:
            self.last_pod = pod
        self.pod = pod
        if wake:
            self.wake()

    def wake(self) -> None:
        self._wake.set()

    def start(self, on_done: Callable[[str], None]) -> None:
        async def run() -> None:
            try:
                await self._loop()
            finally:
                on_done(self.uid)
        self.task = asyncio.create_task(run(), name=f"pod-{self.uid[:8]}")

    async def _loop(self) -> None:
        delay: float | None = 0.0
        while True:
            if delay is None or delay > 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), RESYNC if delay is None else min(delay, RESYNC))
                except TimeoutError:
                    pass
            self._wake.clear()
            began = time.monotonic()
            try:
                if self.pod is None:
                    await self._clean_up()
                    return
                if self.pod.metadata.HasField("deletion_timestamp"):
                    delay = await self._terminate_deleted(self.pod)
                else:
                    delay = await self.sync(self.pod)
            except (RuntimeFailure, ApiError, OSError) as e:   # Docker or the API server away: again soon
                log.warning("pod %s: sync failed: %s", self._name(), e)
                delay = RETRY
            except Exception:   # a bug must not end the pod's worker: report it and try again later
                log.exception("pod %s: sync failed", self._name())
                delay = RESYNC
            log.debug("pod %s: synced in %.0f ms", self._name(), (time.monotonic() - began) * 1000)

    def _name(self) -> str:
        pod = self.pod or self.last_pod
        return f"{pod.metadata.namespace}/{pod.metadata.name}" if pod is not None else self.uid

    # -- one sync of a live pod

    async def sync(self, pod: Message) -> float | None:
        """Plan and act until nothing changes; returns when to look again (the last plan's next_sync)."""
        next_sync: float | None = 0.0   # still changing after MAX_STEPS: again at once, after the others
        for _ in range(MAX_STEPS):
            if not await self._carry_out(pod, await self._plan(pod)):
                next_sync = (await self._plan(pod)).next_sync   # with what the last steps left (a pull back-off, a hold)
                break
        was_terminal = self._terminal is not None
        await self._tidy(self.ctx.cache.of_pod(self.uid))
        self._report(pod, self.ctx.cache.of_pod(self.uid))
        if self._terminal is not None and not was_terminal:
            return 0.0   # it has just finished (a Job's main containers): stop what still runs, its sidecars
        return next_sync

    async def _plan(self, pod: Message) -> Plan:
        snapshot = tuple(self.ctx.cache.of_pod(self.uid))
        plan = podplan.plan(pod, self._plan_facts(pod, snapshot, unwired=await self._sandbox.unwired(snapshot)))
        if plan.terminal is not None and self._terminal is None:
            self._terminal = plan.terminal
        return plan

    def _plan_facts(self, pod: Message, snapshot: tuple[ContainerStatus, ...], *, unwired: frozenset[str]) -> Facts:
        probes = self.ctx.probes
        return Facts(
            snapshot=snapshot, terminal=self._terminal, deadline_left=self._deadline_left(pod),
            network_ready=self.ctx.network_ready(), unwired=unwired,
            probe_failures={s.id: failed for s in snapshot if s.kind is not Kind.SANDBOX
                            and s.state is State.RUNNING and (failed := probes.failed(pod, s.name, s.id))},
            unstarted=frozenset(s.id for s in snapshot if s.kind is Kind.INIT and s.state is State.RUNNING
                                and not probes.started(pod, s.name, s.id)),
            restart_waits={s.id: self._restart_wait(s) for s in podplan.restart_candidates(pod, snapshot)},
            pull_waits={c.name: left for c in (*pod.spec.init_containers, *pod.spec.containers)
                        if (left := self._starter.pull_wait_left(c.name)) > 0},
            hold=max(0.0, self._hold_until - time.monotonic()))

    def _restart_wait(self, latest: ContainerStatus) -> tuple[float, float]:
        """The crash-loop back-off after this ended attempt and the seconds of it left (0: may start now)."""
        ended = latest.finished_at or latest.created_at or now()
        ran_for = (ended - latest.started_at).total_seconds() if latest.started_at else 0.0
        wait = self.ctx.backoff.step((self.uid, latest.name), latest.id, ran_for=ran_for)
        return wait, max(0.0, ended.timestamp() + wait - time.time())

    def _hold(self) -> None:
        """A step failed: the plan waits RETRY seconds before trying it again."""
        self._hold_until = time.monotonic() + RETRY

    async def _carry_out(self, pod: Message, plan: Plan) -> bool:
        """Do what the plan says; True when it changed something worth planning again."""
        if plan.terminal is not None:
            await self._stopper.stop_all(self.ctx.cache.of_pod(self.uid), grace=podspec.grace_seconds(pod), pod=pod)
            return False
        if plan.network_not_ready:
            self.ctx.recorder.record(pod, WARNING, "NetworkNotReady",
                                     "network is not ready: the node's pod network is not set up yet")
        for waiting in plan.waiting:
            self._back_off(pod, waiting)
        if plan.sandbox is not None:
            return await self._new_sandbox(pod, plan.sandbox)
        sandbox = plan.running_sandbox
        if sandbox is None:
            return False
        if not await self._ensure_volumes(pod, pod_ip=sandbox.ip):
            return False
        for kill in plan.kills:
            self.ctx.recorder.record(pod, NORMAL, "Killing", kill.why,
                                     field_path=podspec.field_path(pod, kill.status.name))
            await self._stopper.stop(kill.status, podspec.grace_seconds(pod), pod=pod)
        started = await asyncio.gather(*(self._starter.start(pod, start, sandbox, volume_paths=self._volumes or {})
                                         for start in plan.starts))
        # Probe what runs now, the containers just started included: nothing else would wake
        # the worker to start their probes before the next resync.
        now_here = [s for s in self.ctx.cache.of_pod(self.uid) if s.sandbox_id == sandbox.id]
        running = {name: attempts[-1] for kind in (Kind.INIT, Kind.APP)
                   for name, attempts in by_name(now_here, kind).items() if attempts[-1].state is State.RUNNING}
        self.ctx.probes.sync(pod, running, pod_ip=sandbox.ip or self.ctx.host_ip)
        return bool(plan.kills) or any(started)

    def _deadline_left(self, pod: Message) -> float | None:
        """Seconds until activeDeadlineSeconds runs out (counted from the pod's start), if it has one."""
        started = (self._last_status or pod.status).start_time
        if not pod.spec.HasField("active_deadline_seconds") or not started.seconds:
            return None
        return started.seconds + pod.spec.active_deadline_seconds - time.time()

    async def _new_sandbox(self, pod: Message, new: podplan.NewSandbox) -> bool:
        if new.replacing is not None:
            self.ctx.recorder.record(pod, NORMAL, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
            await self._stopper.stop_all(self.ctx.cache.of_pod(self.uid), grace=podspec.grace_seconds(pod))
        if not await self._ensure_volumes(pod, pod_ip=""):
            return False
        try:
            sandbox = await self._sandbox.create(pod, attempt=new.attempt)
        except (RuntimeFailure, OSError) as e:
            self.ctx.recorder.record(pod, WARNING, "FailedCreatePodSandBox", f"Failed to create pod sandbox: {e}")
            self._hold()
            return False
        if sandbox is None:
            self._hold()
            return False
        return True

    async def _ensure_volumes(self, pod: Message, *, pod_ip: str) -> bool:
        """Set the pod's volumes up (again every volume_refresh seconds, carrying ConfigMap and Secret updates,
        and at once when the pod's labels or annotations change, for its downwardAPI files)."""
        fields = (sorted(pod.metadata.labels.items()), sorted(pod.metadata.annotations.items()))
        if self._volumes is not None and time.monotonic() < self._next_refresh and fields == self._volumes_for:
            return True
        try:
            self._volumes = await self.ctx.volumes.setup(pod, pod_ip=pod_ip)
        except MountFailed as e:
            self.ctx.recorder.record(pod, WARNING, "FailedMount", f"MountVolume.SetUp failed for {e}")
            for container in (*pod.spec.init_containers, *pod.spec.containers):
                self._waiting[container.name] = ("ContainerCreating", str(e))
            self._hold()
            return False
        self._next_refresh = time.monotonic() + self.ctx.volume_refresh
        self._volumes_for = fields
        return True

    def _back_off(self, pod: Message, waiting: podplan.Waiting) -> None:
        """A container waits out a back-off: its waiting reason, and one event when the wait begins."""
        name, where = waiting.container.name, podspec.field_path(pod, waiting.container.name)
        if waiting.reason == "CrashLoopBackOff":
            message = f"back-off {waiting.back_off:g}s restarting failed container={name} pod={pod.metadata.name}"
            event = (WARNING, "BackOff", "Back-off restarting failed container")
        else:
            message = f'Back-off pulling image "{waiting.container.image}"'
            event = (NORMAL, "BackOff", message)
        if self._waiting.get(name, ("",))[0] != waiting.reason:
            self.ctx.recorder.record(pod, *event, field_path=where)
        self._waiting[name] = (waiting.reason, message)

    # -- stopping

    async def _terminate_deleted(self, pod: Message) -> float | None:
        """The pod is being deleted: stop it within its grace period, report, finish the deletion."""
        grace = podplan.deletion_grace(pod)
        if self._finalized:
            return None   # nothing left but to wait for the pod to leave the API
        await self._stopper.stop_all(self.ctx.cache.of_pod(self.uid), grace=grace, pod=pod)
        self.ctx.probes.remove_pod(self.uid)
        self._report(pod, self.ctx.cache.of_pod(self.uid))
        self._finalized = await self._finalize(pod)
        return None if self._finalized else RETRY

    async def _clean_up(self) -> None:
        """The pod is gone: stop what still runs (grace from the labels), remove it all."""
        snapshot = self.ctx.cache.of_pod(self.uid)
        grace = max((s.grace_seconds for s in snapshot), default=podspec.DEFAULT_GRACE_SECONDS)
        await self._stopper.stop_all(snapshot, grace=grace, pod=self.last_pod)
        for status in snapshot:
            await self.ctx.cache.remove(status.id)
        self.ctx.probes.remove_pod(self.uid)
        self.ctx.backoff.forget_pod(self.uid)
        await self.ctx.volumes.teardown(self.uid)
        await self._sandbox.release()

    async def _tidy(self, snapshot: list[ContainerStatus]) -> None:
        """Keep each container's latest instance and the one before it (lastState, logs --previous).

        Older exited instances and dead sandboxes but the latest go.
        """
        sandboxes = sorted((s for s in snapshot if s.kind is Kind.SANDBOX), key=lambda s: s.attempt)
        doomed = [s for s in sandboxes[:-1] if s.state is State.EXITED]
        for kind in (Kind.INIT, Kind.APP):
            for attempts in by_name(snapshot, kind).values():
                doomed += [s for s in attempts[:-2] if s.state is not State.RUNNING]
        for status in doomed:
            await self.ctx.cache.remove(status.id)
            message_file(self.ctx.volumes, self.uid, status.name, status.attempt).unlink(missing_ok=True)

    # -- reporting

    def _report(self, pod: Message, snapshot: list[ContainerStatus]) -> None:
        sandboxes = sorted((s for s in snapshot if s.kind is Kind.SANDBOX), key=lambda s: s.attempt)
        sandbox = sandboxes[-1] if sandboxes else None
        pod_ip = "" if sandbox is None else (self.ctx.host_ip if sandbox.host_network else sandbox.ip)
        facts = PodFacts(init=self._facts(pod, snapshot, Kind.INIT), app=self._facts(pod, snapshot, Kind.APP),
                         pod_ip=pod_ip if sandbox is not None and sandbox.state is State.RUNNING else "",
                         host_ip=self.ctx.host_ip, terminal=self._terminal)
        status = pod_status(pod, facts, self._last_status)
        if status.phase == RUNNING and self._seen_at is not None:
            if (self._last_status or pod.status).phase != RUNNING:   # not one adopted running
                metrics.POD_START.observe(time.monotonic() - self._seen_at)
            self._seen_at = None
        self._last_status = status
        if status.phase in TERMINAL and self._terminal is None:
            self._terminal = (status.phase, status.reason, status.message)
        self._on_status(pod, status)

    def _facts(self, pod: Message, snapshot: list[ContainerStatus], kind: Kind) -> dict[str, ContainerFacts]:
        facts = {}
        for name, attempts in by_name(snapshot, kind).items():
            latest = attempts[-1]
            running = latest.state is State.RUNNING
            facts[name] = ContainerFacts(
                attempts=attempts,
                waiting=None if running else self._waiting.get(name),
                ready=running and self.ctx.probes.ready(pod, name, latest.id),
                started=running and self.ctx.probes.started(pod, name, latest.id),
                message=self._message(latest) if latest.state is State.EXITED else "")
        for name, waiting in self._waiting.items():
            if name not in facts and podspec.container_named(pod, name, init=kind is Kind.INIT) is not None:
                facts[name] = ContainerFacts(waiting=waiting)
        return facts

    def _message(self, status: ContainerStatus) -> str:
        path = message_file(self.ctx.volumes, self.uid, status.name, status.attempt)
        try:
            with path.open("rb") as f:
                return f.read(MESSAGE_LIMIT).decode(errors="replace")
        except OSError:
            return ""

