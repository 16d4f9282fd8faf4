"""One pod's worker: carries out the pod's plan (podplan.py), then says how it went.

Level-triggered, like every Kubernetes controller: each sync takes what
Docker has for the pod right now (all attempts of all its containers, by
label, from the PLEG's cache), asks `podplan.plan` what is missing, does it,
and plans again on the result until nothing is left to do now; then it
tidies up and reports the pod's status. It runs again whenever Docker, a
probe or the pod changes, when the plan's `next_sync` comes, and every
RESYNC seconds anyway.

What stays here is what touches the world: the sandbox and containers
(through the runtime), volumes, environment, image pulls (agent/runtime/pulls.py),
events, and the status report. Older attempts are tidied: each container's
latest instance and the one before it are kept (lastState, `logs
--previous`); older ones and dead sandboxes go.

Deletion: containers get their preStop hook (hooks.py), then SIGTERM, then
SIGKILL once the grace period is spent; sidecars go after the main
containers (sidecars.py). The pod's final status is reported, the API
deletion is finished, and when the pod is gone everything it had on the node
is removed. A container's postStart hook runs as soon as it has started,
before the worker reports or probes it; if the hook fails, the container is
killed and restarted as its policy says.
"""
import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from google.protobuf.message import Message

from agent.kubelet import hooks, podplan, podspec, sidecars
from agent.kubelet.backoff import BackOff
from agent.kubelet.envvars import ConfigError, container_env
from agent.kubelet.pullsecrets import pull_credentials
from agent.kubelet.security import non_root_problem
from agent.kubelet.objects import ObjectSource
from agent.kubelet.pleg import ContainerCache
from agent.kubelet.podplan import Facts, Plan, Start, by_name
from agent.kubelet.prober import ProbeManager
from agent.kubelet.recorder import NORMAL, WARNING, Recorder
from agent.kubelet.status import TERMINAL, ContainerFacts, PodFacts, now, pod_status
from agent.kubelet.volumes import MountFailed, PodVolumes
from agent.runtime import Runtime, labels
from agent.runtime.containers import cannot_run
from agent.runtime.errors import NotFound, RuntimeFailure
from agent.runtime.pulls import Puller
from agent.runtime.types import ContainerStatus, Kind, Mount, State
from controlplane.client.errors import ApiError
from controlplane.metrics import kubelet as metrics

log = logging.getLogger(__name__)
RUNNING = "Running"

RESYNC = 10.0           # seconds between syncs when nothing happens
RETRY = 2.0             # seconds before retrying after a failed step (mount, sandbox, the API)
SANDBOX_STOP_GRACE = 2  # the pause exits on SIGTERM at once; this is only a bound
MESSAGE_LIMIT = 4096    # bytes of a termination message, as Kubernetes
KILL_WAIT = 10.0        # seconds to wait for a container to die after SIGKILL
AFTER_PRE_STOP = 2      # seconds a container gets at least after its preStop hook, as in Kubernetes
MAX_STEPS = 8           # plan-and-act rounds in one sync (a container that exits at once restarts once)


class SandboxNetwork(Protocol):
    """The pod network as the kubelet uses it to wire sandboxes itself (agent/network/controller.py).
    All but wires_pods block: they run in worker threads."""

    def wires_pods(self) -> bool: ...
    def allocate(self, uid: str) -> str: ...
    def attach(self, *, pid: int, uid: str, attempt: int, address: str) -> None: ...
    def attached(self, *, uid: str, attempt: int) -> bool: ...
    def release(self, uid: str) -> list[str]: ...


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
        self._puller = Puller(ctx.runtime.images)
        self._last_status: Message | None = None
        self._finalized = False                # the API deletion has been finished
        self._hold_until = 0.0                 # monotonic time before which a failed step is not retried
        self._wired: set[str] = set()          # sandboxes known to be wired into the pod network
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
        plan = podplan.plan(pod, self._plan_facts(pod, snapshot, unwired=await self._unwired(snapshot)))
        if plan.terminal is not None and self._terminal is None:
            self._terminal = plan.terminal
        return plan

    async def _unwired(self, snapshot: tuple[ContainerStatus, ...]) -> frozenset[str]:
        """The running sandboxes made for the agent to wire (their label carries the pod IP) that have no
        pair on the pod bridge. Each is looked at once: one found wired stays so while it runs."""
        network = self.ctx.network
        if network is None:
            return frozenset()
        self._wired.intersection_update(s.id for s in snapshot if s.kind is Kind.SANDBOX)   # only live ones
        unwired = set()
        for s in snapshot:
            if (s.kind is Kind.SANDBOX and s.state is State.RUNNING and labels.POD_IP in s.labels
                    and s.id not in self._wired):
                if await asyncio.to_thread(network.attached, uid=self.uid, attempt=s.attempt):
                    self._wired.add(s.id)
                else:
                    unwired.add(s.id)
        return frozenset(unwired)

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
                        if (left := self._puller.wait_left((self.uid, c.name))) > 0},
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
            await self._stop_all(self.ctx.cache.of_pod(self.uid), grace=podspec.grace_seconds(pod), pod=pod)
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
            self.ctx.recorder.record(pod, NORMAL, "Killing", kill.why, field_path=_field_path(pod, kill.status.name))
            await self._stop(kill.status, podspec.grace_seconds(pod), pod=pod)
        started = await asyncio.gather(*(self._start(pod, start, sandbox) for start in plan.starts))
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
            await self._stop_all(self.ctx.cache.of_pod(self.uid), grace=podspec.grace_seconds(pod))
        if not await self._ensure_volumes(pod, pod_ip=""):
            return False
        config = podspec.sandbox_config(pod, attempt=new.attempt, dns=self.ctx.dns)
        network = self.ctx.network
        wired = network is not None and network.wires_pods() and not config.host_network and not config.ports
        try:
            if wired:   # an address before the sandbox exists: its label carries it (the pod IP)
                config = replace(config, ip=await asyncio.to_thread(network.allocate, self.uid))
            sandbox_id = await self.ctx.runtime.sandboxes.create(config)
            with self.ctx.cache.operating(sandbox_id):
                try:
                    await self.ctx.runtime.containers.start(sandbox_id)
                finally:
                    sandbox = await self.ctx.cache.inspect(sandbox_id)
                if sandbox is not None and wired:
                    try:
                        await asyncio.to_thread(network.attach, pid=sandbox.pid, uid=self.uid,
                                                attempt=new.attempt, address=config.ip)
                        self._wired.add(sandbox_id)
                    except Exception as e:   # an unwired sandbox must never get the pod's containers
                        await self._remove(sandbox_id)
                        raise RuntimeFailure(f"wiring the sandbox into the pod network: {e}") from e
                if sandbox is not None and config.dns and config.dns.nameservers and not config.host_network:
                    await self.ctx.runtime.sandboxes.write_resolv_conf(sandbox, config.dns)
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
        name, where = waiting.container.name, _field_path(pod, waiting.container.name)
        if waiting.reason == "CrashLoopBackOff":
            message = f"back-off {waiting.back_off:g}s restarting failed container={name} pod={pod.metadata.name}"
            event = (WARNING, "BackOff", "Back-off restarting failed container")
        else:
            message = f'Back-off pulling image "{waiting.container.image}"'
            event = (NORMAL, "BackOff", message)
        if self._waiting.get(name, ("",))[0] != waiting.reason:
            self.ctx.recorder.record(pod, *event, field_path=where)
        self._waiting[name] = (waiting.reason, message)

    async def _start(self, pod: Message, start: Start, sandbox: ContainerStatus) -> bool:
        """Pull if needed, create and start one new attempt; failures become waiting reasons.
        True once a container was created (the pod changed)."""
        container = start.container
        record, where = self.ctx.recorder.record, _field_path(pod, container.name)
        if not await self._image(pod, container):
            return False
        try:
            env = await container_env(pod, container, self.ctx.objects, pod_ip=sandbox.ip or self.ctx.host_ip,
                                      host_ip=self.ctx.host_ip)
            if (problem := await non_root_problem(pod, container, self.ctx.runtime.images.image_user)) is not None:
                raise ConfigError(problem)
        except ConfigError as e:
            record(pod, WARNING, "Failed", f"Error: {e}", field_path=where)
            self._waiting[container.name] = ("CreateContainerConfigError", str(e))
            return False
        config = podspec.container_config(
            pod, container, kind=start.kind, attempt=start.attempt, env=env, volume_paths=self._volumes or {},
            extra_mounts=self._termination_log(pod, container, start.attempt))
        try:
            for mount in config.mounts:
                if mount.source.startswith(str(self.ctx.volumes.root)) and not Path(mount.source).exists():
                    Path(mount.source).mkdir(parents=True, exist_ok=True)   # a subPath, made as Kubernetes does
            container_id = await self.ctx.runtime.containers.create(config, sandbox_id=sandbox.id)
        except (RuntimeFailure, OSError) as e:
            record(pod, WARNING, "Failed", f"Error: {e}", field_path=where)
            self._waiting[container.name] = ("CreateContainerError", str(e))
            return False
        record(pod, NORMAL, "Created", f"Created container {container.name}", field_path=where)
        with self.ctx.cache.operating(container_id):
            try:
                await self.ctx.runtime.containers.start(container_id)
                failure = None
            except RuntimeFailure as e:
                failure = e
            started = await self.ctx.cache.inspect(container_id)
        self._waiting.pop(container.name, None)
        if failure is None:
            record(pod, NORMAL, "Started", f"Started container {container.name}", field_path=where)
            if container.lifecycle.HasField("post_start") and started is not None:
                await self._post_start(pod, container, started)
        else:
            record(pod, WARNING, "Failed", f"Error: {failure}", field_path=where)
            if started is None or not cannot_run(started):   # else its status says ContainerCannotRun
                self._waiting[container.name] = ("RunContainerError", str(failure))
        return True

    async def _post_start(self, pod: Message, container: Message, status: ContainerStatus) -> None:
        """Run the container's postStart hook; when it fails the container is killed (its preStop hook
        included, as Kubernetes does) and restarted as its policy says."""
        handler = container.lifecycle.post_start
        problem = await hooks.run(self.ctx.runtime, handler, container_id=status.id, host=self._pod_ip(),
                                  named_ports=_named_ports(container), timeout=hooks.POST_START_TIMEOUT)
        if problem is None:
            return
        where = _field_path(pod, container.name)
        self.ctx.recorder.record(pod, WARNING, "FailedPostStartHook",
                                 hooks.failure(handler, pod, container.name, problem),
                                 field_path=where)
        self.ctx.recorder.record(pod, NORMAL, "Killing", f"FailedPostStartHook: stopping container {container.name}",
                                 field_path=where)
        await self._stop(status, podspec.grace_seconds(pod), pod=pod)

    def _pod_ip(self) -> str:
        """Where a hook's httpGet goes without a host: the pod's IP (the node's with hostNetwork)."""
        sandbox = podplan.latest_sandbox(self.ctx.cache.of_pod(self.uid))
        return (sandbox.ip if sandbox is not None and not sandbox.host_network else "") or self.ctx.host_ip

    async def _image(self, pod: Message, container: Message) -> bool:
        """The container's image is present (pulled now if the policy says so); False while it is not."""
        record, where = self.ctx.recorder.record, _field_path(pod, container.name)
        auths = await pull_credentials(self.ctx.objects, pod, container.image) if pod.spec.image_pull_secrets else ()
        outcome = await self._puller.ensure((self.uid, container.name), container.image,
                                            policy=container.image_pull_policy, auths=auths)
        if outcome.pulling:
            record(pod, NORMAL, "Pulling", f'Pulling image "{container.image}"', field_path=where)
        if outcome.ready:
            if self._waiting.get(container.name, ("",))[0] in ("ErrImagePull", "ImagePullBackOff"):
                self._waiting.pop(container.name)
            record(pod, NORMAL, "Pulled", outcome.message, field_path=where)
            return True
        if outcome.reason == "ErrImagePull":
            record(pod, WARNING, "Failed", f'Failed to pull image "{container.image}": {outcome.message}',
                   field_path=where)
        else:
            record(pod, WARNING, outcome.reason, outcome.message, field_path=where)
        self._waiting[container.name] = (outcome.reason, outcome.message)
        return False

    def _termination_log(self, pod: Message, container: Message, attempt: int) -> tuple[Mount, ...]:
        """A host file bind-mounted at terminationMessagePath, read back when the container ends."""
        if not container.termination_message_path:
            return ()
        path = self._message_file(container.name, attempt)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return (Mount(source=str(path), target=container.termination_message_path),)

    def _message_file(self, name: str, attempt: int) -> Path:
        return self.ctx.volumes.pod_dir(self.uid) / "containers" / name / str(attempt)

    # -- stopping

    async def _stop_all(self, snapshot: list[ContainerStatus], *, grace: int, pod: Message | None = None) -> None:
        """Stop every running container of the pod within `grace` seconds in all (with `pod`, their
        preStop hooks first, and the sidecars after the others); then the sandboxes."""
        running = [s for s in snapshot if s.state is State.RUNNING]
        apps = [s for s in running if s.kind is not Kind.SANDBOX]
        if pod is not None:
            for status in apps:
                self.ctx.recorder.record(pod, NORMAL, "Killing", f"Stopping container {status.name}",
                                         field_path=_field_path(pod, status.name))
        deadline = time.monotonic() + grace
        for group in sidecars.stop_order(pod, apps):
            left = max(0, math.ceil(deadline - time.monotonic()))
            await asyncio.gather(*(self._stop(s, left, pod=pod) for s in group))
        await asyncio.gather(*(self._stop(s, SANDBOX_STOP_GRACE) for s in running if s.kind is Kind.SANDBOX))

    async def _stop(self, status: ContainerStatus, grace: int, *, pod: Message | None = None) -> None:
        """The container's preStop hook if `pod` gives it one, its stop signal, then SIGKILL once
        `grace` seconds (the hook's time included) are spent if it still runs.

        No thread waits meanwhile: Docker's die event (through the PLEG) ends the wait.
        """
        if pod is not None and grace > 0:
            grace = await self._pre_stop(pod, status, grace)
        containers, cache = self.ctx.runtime.containers, self.ctx.cache
        try:
            signals = ((status.stop_signal, grace),) if grace > 0 else ()
            for signal, wait in (*signals, ("SIGKILL", KILL_WAIT)):
                if not await containers.kill(status.id, signal=signal):
                    break      # not running (any more): look at how it ended
                if await cache.wait_exited(status.id, wait):
                    return     # the cache has its exit, from the die event
        except NotFound:
            cache.drop(status.id)
            return
        await cache.inspect(status.id)

    async def _pre_stop(self, pod: Message, status: ContainerStatus, grace: int) -> int:
        """Run the container's preStop hook within `grace`; the seconds left for its stop signal."""
        container = next((c for c in _containers(pod, Kind.INIT if status.kind is Kind.INIT else Kind.APP)
                          if c.name == status.name), None)
        if container is None or not container.lifecycle.HasField("pre_stop"):
            return grace
        handler, began = container.lifecycle.pre_stop, time.monotonic()
        problem = await hooks.run(self.ctx.runtime, handler, container_id=status.id, host=self._pod_ip(),
                                  named_ports=_named_ports(container), timeout=float(grace))
        if problem is not None:
            self.ctx.recorder.record(pod, WARNING, "FailedPreStopHook",
                                     hooks.failure(handler, pod, container.name, problem),
                                     field_path=_field_path(pod, container.name))
        return max(AFTER_PRE_STOP, math.ceil(grace - (time.monotonic() - began)))

    async def _remove(self, container_id: str) -> None:
        try:
            await self.ctx.runtime.containers.remove(container_id)
        except NotFound:
            pass
        self.ctx.cache.drop(container_id)

    async def _terminate_deleted(self, pod: Message) -> float | None:
        """The pod is being deleted: stop it within its grace period, report, finish the deletion."""
        grace = podplan.deletion_grace(pod)
        if self._finalized:
            return None   # nothing left but to wait for the pod to leave the API
        await self._stop_all(self.ctx.cache.of_pod(self.uid), grace=grace, pod=pod)
        self.ctx.probes.remove_pod(self.uid)
        self._report(pod, self.ctx.cache.of_pod(self.uid))
        self._finalized = await self._finalize(pod)
        return None if self._finalized else RETRY

    async def _clean_up(self) -> None:
        """The pod is gone: stop what still runs (grace from the labels), remove it all."""
        snapshot = self.ctx.cache.of_pod(self.uid)
        grace = max((s.grace_seconds for s in snapshot), default=podspec.DEFAULT_GRACE_SECONDS)
        await self._stop_all(snapshot, grace=grace, pod=self.last_pod)
        for status in snapshot:
            await self._remove(status.id)
        self.ctx.probes.remove_pod(self.uid)
        self.ctx.backoff.forget_pod(self.uid)
        await self.ctx.volumes.teardown(self.uid)
        if self.ctx.network is not None:
            await asyncio.to_thread(self.ctx.network.release, self.uid)

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
            await self._remove(status.id)
            self._message_file(status.name, status.attempt).unlink(missing_ok=True)

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
            if name not in facts and any(c.name == name for c in _containers(pod, kind)):
                facts[name] = ContainerFacts(waiting=waiting)
        return facts

    def _message(self, status: ContainerStatus) -> str:
        path = self._message_file(status.name, status.attempt)
        try:
            with path.open("rb") as f:
                return f.read(MESSAGE_LIMIT).decode(errors="replace")
        except OSError:
            return ""


def _containers(pod: Message, kind: Kind) -> list[Message]:
    return list(pod.spec.init_containers if kind is Kind.INIT else pod.spec.containers)


def _named_ports(container: Message) -> dict[str, int]:
    return {p.name: p.container_port for p in container.ports if p.name}


def _field_path(pod: Message, name: str) -> str:
    if any(c.name == name for c in pod.spec.init_containers):
        return f"spec.initContainers{{{name}}}"
    return f"spec.containers{{{name}}}"
