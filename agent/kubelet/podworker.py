"""One pod's worker: make Docker match the pod's spec, then say how it went.

Level-triggered, like every Kubernetes controller: each sync looks at what
Docker has for the pod right now (all attempts of all its containers, by
label) and at the spec, does the next thing that is missing, and reports the
pod's status. It runs again whenever Docker, a probe or the pod changes, when
a back-off expires, and every RESYNC seconds anyway.

The steps of a sync, as Kubernetes' SyncPod:
1. a running sandbox (pause container), with the pod's volumes set up; a
   dead sandbox is replaced and the pod's containers start over in it;
2. init containers, one at a time, each to success;
3. app containers: start what is missing; restart what exited if the
   restartPolicy says so, after the crash-loop back-off; kill and restart
   what failed its liveness or startup probe or no longer matches the spec;
4. tidy up: each container's latest instance and the one before it are kept
   (lastState, `logs --previous`); older ones and dead sandboxes go.

Deletion: containers get SIGTERM, then SIGKILL after the grace period; the
pod's final status is reported, the API deletion is finished, and when the
pod is gone everything it had on the node is removed.
"""
import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import Message

from agent.kubelet import podspec
from agent.kubelet.backoff import INITIAL, MAXIMUM, BackOff
from agent.kubelet.envvars import ConfigError, container_env
from agent.kubelet.security import non_root_problem
from agent.kubelet.objects import ObjectSource
from agent.kubelet.pleg import ContainerCache
from agent.kubelet.prober import ProbeManager
from agent.kubelet.recorder import NORMAL, WARNING, Recorder
from agent.kubelet.status import FAILED, TERMINAL, ContainerFacts, PodFacts, now, pod_status
from agent.kubelet.volumes import MountFailed, PodVolumes
from agent.runtime import Runtime
from agent.runtime.containers import cannot_run
from agent.runtime.errors import ImageNeverPull, ImagePullFailed, NotFound, RuntimeFailure
from agent.runtime.images import ALWAYS, NEVER
from agent.runtime.types import ContainerStatus, Kind, Mount, State
from controlplane.client.errors import ApiError

log = logging.getLogger(__name__)

RESYNC = 10.0           # seconds between syncs when nothing happens
RETRY = 2.0             # seconds before retrying after a failed step (mount, sandbox)
SANDBOX_STOP_GRACE = 2  # the pause exits on SIGTERM at once; this is only a bound
MESSAGE_LIMIT = 4096    # bytes of a termination message, as Kubernetes
KILL_WAIT = 10.0        # seconds to wait for a container to die after SIGKILL


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


StatusSink = Callable[[Message, Message], None]            # (pod, its new status)
Finalizer = Callable[[Message], Awaitable[bool]]           # finish the API deletion; True when done


def _by_name(statuses: list[ContainerStatus], kind: Kind) -> dict[str, list[ContainerStatus]]:
    """Attempts of each container of one kind, oldest first."""
    found: dict[str, list[ContainerStatus]] = defaultdict(list)
    for status in sorted(statuses, key=lambda s: s.attempt):
        if status.kind is kind:
            found[status.name].append(status)
    return found


def _latest(attempts: dict[str, list[ContainerStatus]], name: str) -> ContainerStatus | None:
    found = attempts.get(name)
    return found[-1] if found else None


def pull_back_off(failures: int) -> float:
    """Seconds before pulling again after `failures` failed pulls in a row: 10 s doubling to 5 min."""
    return min(INITIAL * 2 ** (failures - 1), MAXIMUM)


def _should_restart(policy: str, status: ContainerStatus) -> bool:
    if status.state is State.CREATED:     # created, never started (its kubelet died in between)
        return policy != "Never"
    return policy == "Always" or (policy == "OnFailure" and status.exit_code != 0)


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
        self._terminal: tuple[str, str, str] | None = None   # (phase, reason, message) once finished
        self._pull_failures: dict[str, tuple[float, int]] = {}  # container → (when, how many in a row)
        self._last_status: Message | None = None
        self._finalized = False                # the API deletion has been finished
        self._due: float | None = None                    # monotonic time a step asked to be retried at
        self._volumes: dict[str, str] | None = None
        self._next_refresh = 0.0
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
            self._due = None
            began = time.monotonic()
            try:
                if self.pod is None:
                    await self._clean_up()
                    return
                if self.pod.metadata.HasField("deletion_timestamp"):
                    delay = await self._terminate_deleted(self.pod)
                else:
                    delay = await self.sync(self.pod)
                if self._due is not None:
                    due = max(0.0, self._due - time.monotonic())
                    delay = due if delay is None else min(delay, due)
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
        """Do what the pod is missing; returns seconds until the next sync is due (None: at leisure)."""
        snapshot = self.ctx.cache.of_pod(self.uid)
        sandboxes = [s for s in snapshot if s.kind is Kind.SANDBOX]
        sandbox = max(sandboxes, key=lambda s: s.attempt) if sandboxes else None
        wake: float | None = None
        if self._terminal is None and pod.status.phase in TERMINAL:
            self._terminal = (pod.status.phase, pod.status.reason, pod.status.message)
        deadline = self._deadline_left(pod)
        if self._terminal is None and deadline is not None and deadline <= 0:
            self._terminal = (FAILED, "DeadlineExceeded", "Pod was active on the node longer than the specified deadline")
        if self._terminal is not None:
            await self._stop_all(snapshot, grace=podspec.grace_seconds(pod), pod=pod)
        elif sandbox is None or sandbox.state is not State.RUNNING:
            if sandbox is None or not self._finished(pod, snapshot, sandbox):
                wake = await self._new_sandbox(pod, snapshot, sandbox)
        else:
            wake = await self._sync_containers(pod, snapshot, sandbox)
        snapshot = self.ctx.cache.of_pod(self.uid)
        await self._tidy(snapshot)
        self._report(pod, self.ctx.cache.of_pod(self.uid))
        deadline = self._deadline_left(pod)
        if deadline is not None and self._terminal is None:
            wake = deadline if wake is None else min(wake, deadline)
        return wake

    def _deadline_left(self, pod: Message) -> float | None:
        """Seconds until activeDeadlineSeconds runs out (counted from the pod's start), if it has one."""
        started = (self._last_status or pod.status).start_time
        if not pod.spec.HasField("active_deadline_seconds") or not started.seconds:
            return None
        return started.seconds + pod.spec.active_deadline_seconds - time.time()

    def _finished(self, pod: Message, snapshot: list[ContainerStatus], sandbox: ContainerStatus) -> bool:
        """The sandbox is gone but the pod's containers are done for good: do not start over."""
        app = _by_name([s for s in snapshot if s.sandbox_id == sandbox.id], Kind.APP)
        latest = [_latest(app, c.name) for c in pod.spec.containers]
        return all(s is not None and s.state is State.EXITED and not _should_restart(pod.spec.restart_policy, s)
                   for s in latest)

    async def _new_sandbox(self, pod: Message, snapshot: list[ContainerStatus],
                           dead: ContainerStatus | None) -> float | None:
        if dead is not None:
            self.ctx.recorder.record(pod, NORMAL, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
            await self._stop_all(snapshot, grace=podspec.grace_seconds(pod))
        if not pod.spec.host_network and not self.ctx.network_ready():
            self.ctx.recorder.record(pod, WARNING, "NetworkNotReady",
                                     "network is not ready: the node's pod network is not set up yet")
            return RETRY
        if not await self._ensure_volumes(pod, pod_ip=""):
            return RETRY
        config = podspec.sandbox_config(pod, attempt=dead.attempt + 1 if dead else 0, dns=self.ctx.dns)
        try:
            sandbox_id = await self.ctx.runtime.sandboxes.create(config)
            with self.ctx.cache.operating(sandbox_id):
                try:
                    await self.ctx.runtime.containers.start(sandbox_id)
                finally:
                    sandbox = await self.ctx.cache.inspect(sandbox_id)
                if sandbox is not None and config.dns and config.dns.nameservers and not config.host_network:
                    await self.ctx.runtime.sandboxes.write_resolv_conf(sandbox, config.dns)
        except RuntimeFailure as e:
            self.ctx.recorder.record(pod, WARNING, "FailedCreatePodSandBox", f"Failed to create pod sandbox: {e}")
            return RETRY
        if sandbox is None:
            return RETRY
        return await self._sync_containers(pod, self.ctx.cache.of_pod(self.uid), sandbox)

    async def _ensure_volumes(self, pod: Message, *, pod_ip: str) -> bool:
        """Set the pod's volumes up (again every volume_refresh seconds, carrying ConfigMap and Secret updates)."""
        if self._volumes is not None and time.monotonic() < self._next_refresh:
            return True
        try:
            self._volumes = await self.ctx.volumes.setup(pod, pod_ip=pod_ip)
        except MountFailed as e:
            self.ctx.recorder.record(pod, WARNING, "FailedMount", f"MountVolume.SetUp failed for {e}")
            for container in (*pod.spec.init_containers, *pod.spec.containers):
                self._waiting[container.name] = ("ContainerCreating", str(e))
            return False
        self._next_refresh = time.monotonic() + self.ctx.volume_refresh
        return True

    async def _sync_containers(self, pod: Message, snapshot: list[ContainerStatus],
                               sandbox: ContainerStatus) -> float | None:
        if not await self._ensure_volumes(pod, pod_ip=sandbox.ip):
            return RETRY
        everywhere = {kind: _by_name(snapshot, kind) for kind in (Kind.INIT, Kind.APP)}
        here = [s for s in snapshot if s.sandbox_id == sandbox.id]
        current = {kind: _by_name(here, kind) for kind in (Kind.INIT, Kind.APP)}
        policy = pod.spec.restart_policy or "Always"

        for container in pod.spec.init_containers:
            latest = _latest(current[Kind.INIT], container.name)
            if latest is not None and latest.state is State.EXITED and latest.exit_code == 0:
                continue
            if latest is not None and latest.state is State.RUNNING:
                return None
            if latest is not None and not _should_restart(policy, latest):
                return None   # failed for good: the pod fails
            wait = self._back_off(pod, container, latest)
            if wait is None:
                await self._start(pod, container, Kind.INIT, everywhere, sandbox)
            return wait

        waits = []
        for container in pod.spec.containers:
            latest = _latest(current[Kind.APP], container.name)
            if latest is not None and latest.state is State.RUNNING:
                if await self._still_wanted(pod, container, latest):
                    continue
                latest = await self.ctx.cache.inspect(latest.id)
            if latest is not None and not _should_restart(policy, latest):
                continue
            wait = self._back_off(pod, container, latest)
            if wait is None:
                await self._start(pod, container, Kind.APP, everywhere, sandbox)
            else:
                waits.append(wait)
        # Probe what runs now, the containers this sync started included: nothing else would wake
        # the worker to start their probes before the next resync.
        now_here = [s for s in self.ctx.cache.of_pod(self.uid) if s.sandbox_id == sandbox.id]
        running = {name: attempts[-1] for name, attempts in _by_name(now_here, Kind.APP).items()
                   if attempts[-1].state is State.RUNNING}
        self.ctx.probes.sync(pod, running, pod_ip=sandbox.ip or self.ctx.host_ip)
        return min(waits) if waits else None

    async def _still_wanted(self, pod: Message, container: Message, running: ContainerStatus) -> bool:
        """False after killing a running container that failed a probe or no longer matches its spec."""
        failed = self.ctx.probes.failed(pod, container.name, running.id)
        if failed:
            why = f"Container {container.name} failed {failed} probe, will be restarted"
        elif running.spec_hash and running.spec_hash != podspec.spec_hash(container):
            why = f"Container {container.name} definition changed, will be restarted"
        else:
            return True
        self.ctx.recorder.record(pod, NORMAL, "Killing", why, field_path=_field_path(pod, container))
        await self._stop(running, podspec.grace_seconds(pod))
        return False

    def _back_off(self, pod: Message, container: Message, latest: ContainerStatus | None) -> float | None:
        """None to start now; otherwise the seconds left of the crash-loop back-off."""
        if latest is None:
            return None
        ended = latest.finished_at or latest.created_at or now()
        ran_for = (ended - latest.started_at).total_seconds() if latest.started_at else 0.0
        wait = self.ctx.backoff.step((self.uid, container.name), latest.id, ran_for=ran_for)
        left = ended.timestamp() + wait - time.time()
        if left <= 0:
            return None
        message = f"back-off {wait:g}s restarting failed container={container.name} pod={pod.metadata.name}"
        if self._waiting.get(container.name, ("",))[0] != "CrashLoopBackOff":
            self.ctx.recorder.record(pod, WARNING, "BackOff", "Back-off restarting failed container",
                                     field_path=_field_path(pod, container))
        self._waiting[container.name] = ("CrashLoopBackOff", message)
        return left

    async def _start(self, pod: Message, container: Message, kind: Kind,
                     everywhere: dict[Kind, dict[str, list[ContainerStatus]]], sandbox: ContainerStatus) -> None:
        """Pull if needed, create and start one new attempt; failures become waiting reasons."""
        record, where = self.ctx.recorder.record, _field_path(pod, container)
        if not await self._image(pod, container):
            return
        try:
            env = await container_env(pod, container, self.ctx.objects, pod_ip=sandbox.ip or self.ctx.host_ip,
                                      host_ip=self.ctx.host_ip)
            if (problem := await non_root_problem(pod, container, self.ctx.runtime.images.image_user)) is not None:
                raise ConfigError(problem)
        except ConfigError as e:
            record(pod, WARNING, "Failed", f"Error: {e}", field_path=where)
            self._waiting[container.name] = ("CreateContainerConfigError", str(e))
            return
        previous = _latest(everywhere[kind], container.name)
        attempt = previous.attempt + 1 if previous else 0
        config = podspec.container_config(
            pod, container, kind=kind, attempt=attempt, env=env, volume_paths=self._volumes or {},
            extra_mounts=self._termination_log(pod, container, attempt))
        try:
            for mount in config.mounts:
                if mount.source.startswith(str(self.ctx.volumes.root)) and not Path(mount.source).exists():
                    Path(mount.source).mkdir(parents=True, exist_ok=True)   # a subPath, made as Kubernetes does
            container_id = await self.ctx.runtime.containers.create(config, sandbox_id=sandbox.id)
        except (RuntimeFailure, OSError) as e:
            record(pod, WARNING, "Failed", f"Error: {e}", field_path=where)
            self._waiting[container.name] = ("CreateContainerError", str(e))
            return
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
        else:
            record(pod, WARNING, "Failed", f"Error: {failure}", field_path=where)
            if started is None or not cannot_run(started):   # else its status says ContainerCannotRun
                self._waiting[container.name] = ("RunContainerError", str(failure))
        if started is None or started.state is State.EXITED:
            self._retry_in(0.0)   # it is over already, and no event will say so: look again now

    async def _image(self, pod: Message, container: Message) -> bool:
        """The container's image is present (pulled now if the policy says so); False while it is not."""
        record, where = self.ctx.recorder.record, _field_path(pod, container)
        image, policy = container.image, container.image_pull_policy
        images = self.ctx.runtime.images
        if policy != ALWAYS and await images.image_id(image):
            if self._waiting.get(container.name, ("",))[0] in ("ErrImagePull", "ImagePullBackOff"):
                self._waiting.pop(container.name)
            record(pod, NORMAL, "Pulled", f'Container image "{image}" already present on machine', field_path=where)
            return True
        if policy == NEVER:
            message = f'Container image "{image}" is not present with pull policy of Never'
            record(pod, WARNING, "ErrImageNeverPull", message, field_path=where)
            self._waiting[container.name] = ("ErrImageNeverPull", message)
            return False
        failed = self._pull_failures.get(container.name)
        if failed is not None:
            left = failed[0] + pull_back_off(failed[1]) - time.time()
            if left > 0:
                message = f'Back-off pulling image "{image}"'
                if self._waiting.get(container.name, ("",))[0] != "ImagePullBackOff":
                    record(pod, NORMAL, "BackOff", message, field_path=where)
                self._waiting[container.name] = ("ImagePullBackOff", message)
                self._retry_in(left)
                return False
        record(pod, NORMAL, "Pulling", f'Pulling image "{image}"', field_path=where)
        began = time.monotonic()
        try:
            await images.ensure(image, policy=ALWAYS)
        except (ImagePullFailed, ImageNeverPull) as e:
            record(pod, WARNING, "Failed", f"Failed to pull image \"{image}\": {e}", field_path=where)
            self._pull_failures[container.name] = (time.time(), (failed[1] if failed else 0) + 1)
            self._waiting[container.name] = ("ErrImagePull", str(e))
            self._retry_in(pull_back_off(self._pull_failures[container.name][1]))
            return False
        self._pull_failures.pop(container.name, None)
        record(pod, NORMAL, "Pulled", f'Successfully pulled image "{image}" in {time.monotonic() - began:.3f}s',
               field_path=where)
        return True

    def _retry_in(self, seconds: float) -> None:
        due = time.monotonic() + seconds
        self._due = due if self._due is None else min(self._due, due)

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
        """SIGTERM every running container of the pod, SIGKILL after `grace`; then the sandboxes."""
        running = [s for s in snapshot if s.state is State.RUNNING]
        apps = [s for s in running if s.kind is not Kind.SANDBOX]
        if pod is not None:
            for status in apps:
                self.ctx.recorder.record(pod, NORMAL, "Killing", f"Stopping container {status.name}",
                                         field_path=_field_path_by_name(pod, status.name))
        await asyncio.gather(*(self._stop(s, grace) for s in apps))
        await asyncio.gather(*(self._stop(s, SANDBOX_STOP_GRACE) for s in running if s.kind is Kind.SANDBOX))

    async def _stop(self, status: ContainerStatus, grace: int) -> None:
        """The container's stop signal, then SIGKILL after `grace` seconds if it still runs.

        No thread waits meanwhile: Docker's die event (through the PLEG) ends the wait.
        """
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

    async def _remove(self, container_id: str) -> None:
        try:
            await self.ctx.runtime.containers.remove(container_id)
        except NotFound:
            pass
        self.ctx.cache.drop(container_id)

    async def _terminate_deleted(self, pod: Message) -> float | None:
        """The pod is being deleted: stop it within its grace period, report, finish the deletion."""
        grace = pod.metadata.deletion_grace_period_seconds if pod.metadata.HasField(
            "deletion_grace_period_seconds") else podspec.grace_seconds(pod)
        grace = min(grace, podspec.grace_seconds(pod))
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

    async def _tidy(self, snapshot: list[ContainerStatus]) -> None:
        """Keep each container's latest instance and the one before it (lastState, logs --previous).

        Older exited instances and dead sandboxes but the latest go.
        """
        sandboxes = sorted((s for s in snapshot if s.kind is Kind.SANDBOX), key=lambda s: s.attempt)
        doomed = [s for s in sandboxes[:-1] if s.state is State.EXITED]
        for kind in (Kind.INIT, Kind.APP):
            for attempts in _by_name(snapshot, kind).values():
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
        self._last_status = status
        if status.phase in TERMINAL and self._terminal is None:
            self._terminal = (status.phase, status.reason, status.message)
        self._on_status(pod, status)

    def _facts(self, pod: Message, snapshot: list[ContainerStatus], kind: Kind) -> dict[str, ContainerFacts]:
        facts = {}
        for name, attempts in _by_name(snapshot, kind).items():
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


def _field_path(pod: Message, container: Message) -> str:
    return _field_path_by_name(pod, container.name)


def _field_path_by_name(pod: Message, name: str) -> str:
    if any(c.name == name for c in pod.spec.init_containers):
        return f"spec.initContainers{{{name}}}"
    return f"spec.containers{{{name}}}"
