"""The scheduler: informers feed the cache and the queue; one loop decides, tasks bind.

    scheduler = Scheduler(client, config)
    await scheduler.run(stop)            # leader-elected unless the config says not

Per pod, the loop pops the next pending pod, runs its profile's framework
against the cache (synchronous, no I/O), assumes the pod on the chosen node
and hands the binding to a task, then moves on. At most `bind_concurrency`
bindings are in flight; the loop waits for a slot rather than letting binds
pile up, which keeps each pod's latency bounded under a burst. A pod that
fits nowhere gets a FailedScheduling event and its PodScheduled condition,
and waits in the queue for a cluster event that may help. Only the leader
does any of this; on losing the lease everything is dropped and rebuilt from
the API server once it leads again.
"""
from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import os
import socket
import time
import uuid

from google.protobuf.message import Message

from controlplane.client import errors
from controlplane.client.client import Client
from controlplane.client.events import EventRecorder
from controlplane.client.informer import InformerFactory
from controlplane.client.leaderelection import LeaderElector
from controlplane.scheduler.cache import Cache
from controlplane.scheduler.config import Profile, SchedulerConfig
from controlplane.scheduler.framework import Action, ClusterEvent, CycleState, Diagnosis, Resource
from controlplane.scheduler.metrics import Metrics
from controlplane.scheduler.plugins.registry import PLUGINS
from controlplane.scheduler.plugins.volumebinding import VolumeView
from controlplane.scheduler.podinfo import PodInfo, pod_info
from controlplane.scheduler.queue import QueuedPod, SchedulingQueue
from controlplane.scheduler.runtime import Framework

log = logging.getLogger(__name__)

_TERMINAL = ("Succeeded", "Failed")


@dataclasses.dataclass
class Handle:
    """What plugins may use besides the pod and the node table (Kubernetes' framework.Handle)."""
    cache: Cache
    client: Client
    recorder: EventRecorder
    scheduler: "Scheduler"
    framework: Framework | None = None
    volumes: VolumeView | None = None   # claims, volumes and classes (VolumeBinding)

    async def set_nominated_node(self, pod: PodInfo, node: str) -> None:
        await self.scheduler.write_pod_status(pod, nominated_node=node)


class Scheduler:
    def __init__(self, client: Client, config: SchedulerConfig = SchedulerConfig(), *, identity: str = ""):
        self.client = client
        self.config = config
        # The PID too, as the controller manager's: servers on one host (one per namespace) share a hostname.
        self.identity = identity or f"{socket.gethostname()}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.metrics = Metrics()
        self.recorder = EventRecorder(client, component="default-scheduler", host=socket.gethostname())
        self.cache: Cache | None = None
        self.queue: SchedulingQueue | None = None
        self.profiles: dict[str, Framework] = {}
        self.synced = asyncio.Event()

    # ------------------------------------------------------------------ running

    async def run(self, stop: asyncio.Event) -> None:
        """Schedule until `stop` is set, while holding the leader lease (if configured)."""
        try:
            election = self.config.leader_election
            if not election.leader_elect:
                lead = asyncio.create_task(self._lead())
                await _until(stop, lead)
                return
            elector = LeaderElector(self.client, name=election.resource_name,
                                    namespace=election.resource_namespace, identity=self.identity,
                                    lease_duration=election.lease_duration,
                                    renew_deadline=election.renew_deadline, retry_period=election.retry_period)
            await elector.run(self._lead, stop=stop)
        finally:
            try:
                await asyncio.wait_for(self.recorder.flush(), 1.0)
            except asyncio.TimeoutError:
                pass
            await self.recorder.close()

    async def _lead(self) -> None:
        """Build the cache and queue from the API server, then schedule until cancelled."""
        self.cache = Cache()
        informers = InformerFactory(self.client)
        self._volumes = VolumeView(informers)
        self.profiles = {p.scheduler_name: self._framework(p) for p in self.config.profiles}
        first = next(iter(self.profiles.values()))
        interests: dict = {}
        for framework in self.profiles.values():
            interests.update(framework.event_interests())
        self.queue = SchedulingQueue(first.queue_sort.sort_key, interests=interests,
                                     initial_backoff=self.config.pod_initial_backoff_seconds,
                                     max_backoff=self.config.pod_max_backoff_seconds)
        self.metrics.report_pending(self.queue)
        self._priority_classes = informers.informer("PriorityClass")
        self._namespaces = informers.informer("Namespace")
        nodes = informers.informer("Node")
        pods = self._pods = informers.informer("Pod")
        nodes.add_handler(on_add=self._on_node, on_update=lambda old, new: self._on_node(new),
                          on_delete=self._on_node_deleted)
        pods.add_handler(on_add=self._on_pod, on_update=self._on_pod_update, on_delete=self._on_pod_deleted)
        for informer, resource in ((self._volumes.claims, Resource.PERSISTENT_VOLUME_CLAIM),
                                   (self._volumes.volumes, Resource.PERSISTENT_VOLUME),
                                   (self._volumes.classes, Resource.STORAGE_CLASS)):
            informer.add_handler(on_add=lambda new, r=resource: self.queue.on_event(ClusterEvent(r, Action.ADD, new=new)),
                                 on_update=lambda old, new, r=resource: self.queue.on_event(
                                     ClusterEvent(r, Action.UPDATE, old=old, new=new)))
        self._bind_slots = asyncio.Semaphore(self.config.bind_concurrency)
        self._tasks: set[asyncio.Task] = set()
        informers.start()
        try:
            await informers.wait_synced()
            # Everything listed so far lives long: keep it out of the collector's full passes,
            # which otherwise stop the loop for 100 ms and more with ten thousand pods cached.
            gc.freeze()
            self.synced.set()
            log.info("scheduler %s: %d nodes, %d pending pods", self.identity, self.cache.nodes.size, len(self.queue))
            await self._loop()
        finally:
            self.synced.clear()
            self.queue.close()
            await informers.stop()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _framework(self, profile: Profile) -> Framework:
        handle = Handle(self.cache, self.client, self.recorder, self, volumes=self._volumes)
        plugins = [PLUGINS[name](handle, **profile.plugin_args.get(name, {})) for name, _ in profile.plugins]
        framework = Framework(scheduler_name=profile.scheduler_name, plugins=plugins,
                              score_weights=dict(profile.plugins),
                              percentage_of_nodes_to_score=self.config.percentage_of_nodes_to_score)
        handle.framework = framework
        return framework

    async def _loop(self) -> None:
        while True:
            await self._bind_slots.acquire()
            try:
                queued = await self.queue.pop()
            except BaseException:
                self._bind_slots.release()
                raise
            self.schedule_one(queued)
            await asyncio.sleep(0)   # let watch events and bind replies in between pods

    # ------------------------------------------------------------------ one pod

    def schedule_one(self, queued: QueuedPod) -> None:
        """Decide for one popped pod; the caller holds a bind slot, which this releases or passes on."""
        started = time.monotonic()
        info = queued.info
        framework = self.profiles.get(info.pod.spec.scheduler_name)
        if framework is None or self.cache.placed(info.key) is not None:
            self.queue.done(info.key)
            self._bind_slots.release()
            return
        state = CycleState()
        try:
            decision = framework.find_node(state, info, self.cache.nodes, prefer=info.nominated_node_name)
        except Exception as e:
            log.exception("scheduling %s/%s", *info.key)
            self.metrics.attempted("error", time.monotonic() - started, profile=info.pod.spec.scheduler_name)
            self.queue.retry(queued)
            self._bind_slots.release()
            self._failed(info, f"scheduler error: {e}")
            return
        self.metrics.ran_algorithm(time.monotonic() - started)
        if not decision.node:
            self._bind_slots.release()
            self._unschedulable(framework, state, queued, decision.diagnosis, started)
            return
        placed = self.cache.assume(info, decision.node)
        status = framework.reserve(state, placed, decision.node)
        if status is not None:
            self.cache.forget(info.key)
            self._bind_slots.release()
            self.queue.retry(queued)
            self._failed(info, f"{status.plugin}: {status.reason}")
            return
        self.queue.done(info.key)
        self._spawn(self._bind(framework, state, queued, placed, decision.node, started))

    def _unschedulable(self, framework: Framework, state: CycleState, queued: QueuedPod,
                       diagnosis: Diagnosis, started: float) -> None:
        info = queued.info
        nominated = ""
        for plugin in framework.post_filters:
            result = plugin.post_filter(state, info, self.cache.nodes, diagnosis)
            if result is None:
                continue
            diagnosis.post_filter_message = result.message
            if result.nominated_node:
                nominated = result.nominated_node
                self.cache.set_nominated(dataclasses.replace(info, nominated_node_name=nominated))
                if result.action is not None:
                    self._spawn(result.action())
                break
        self.metrics.attempted("unschedulable", time.monotonic() - started, profile=info.pod.spec.scheduler_name)
        self.queue.unschedulable(queued, diagnosis.unschedulable_plugins)
        self._failed(info, diagnosis.message(), nominated_node=nominated or None)

    def _failed(self, info: PodInfo, message: str, *, nominated_node: str | None = None) -> None:
        self.recorder.event(info.pod, "Warning", "FailedScheduling", message)
        self._spawn(self.write_pod_status(info, unschedulable=message, nominated_node=nominated_node))

    async def _bind(self, framework: Framework, state: CycleState, queued: QueuedPod, placed: PodInfo,
                    node: str, started: float) -> None:
        try:
            status = await framework.bind(state, placed, node)
            error = None if status is None else f"{status.plugin or 'bind'}: {status.reason}"
        except (errors.FailedPrecondition, errors.NotFound):
            # Bound by someone else, being deleted, or gone: the informer tells the rest.
            self.cache.forget(placed.key)
            framework.unreserve(state, placed, node)
            return
        except errors.ApiError as e:
            error = str(e)
        finally:
            self._bind_slots.release()
        if error is not None:
            log.warning("binding %s/%s to %s: %s", *placed.key, node, error)
            self.cache.forget(placed.key)
            framework.unreserve(state, placed, node)
            self.metrics.attempted("error", time.monotonic() - started, profile=placed.pod.spec.scheduler_name)
            if self._still_pending(placed):
                self.queue.retry(queued)
            self.queue.on_event(ClusterEvent(Resource.ASSIGNED_POD, Action.DELETE, old=placed))
            self._failed(placed, f"Binding rejected: {error}")
            return
        now = time.monotonic()
        self.metrics.bound(now, attempt=now - started, since_queued=now - queued.added_at,
                           profile=placed.pod.spec.scheduler_name)
        self.recorder.event(placed.pod, "Normal", "Scheduled",
                            f"Successfully assigned {placed.namespace}/{placed.name} to {node}")

    def _still_pending(self, info: PodInfo) -> bool:
        """Whether the informer still has this pod, unbound (else it was deleted or bound meanwhile)."""
        current = self._pods.get(info.name, info.namespace)
        return current is not None and current.metadata.uid == info.uid and not current.spec.node_name

    async def write_pod_status(self, info: PodInfo, *, unschedulable: str | None = None,
                               nominated_node: str | None = None) -> None:
        """Set PodScheduled=False/Unschedulable with `unschedulable` as message and/or
        status.nominatedNodeName; skipped when they already read so."""
        pods = self.client.resource("Pod")
        pod = _copy(info.pod)   # never change the informer's copy
        for _ in range(3):
            changed = False
            if unschedulable is not None:
                changed |= _set_condition(pod, unschedulable)
            if nominated_node is not None and pod.status.nominated_node_name != nominated_node:
                pod.status.nominated_node_name = nominated_node
                changed = True
            if not changed:
                return
            try:
                await pods.update_status(pod)
                return
            except errors.Conflict:
                try:
                    pod = await pods.get(info.name, namespace=info.namespace)
                except errors.NotFound:
                    return
                if pod.spec.node_name:
                    return
            except (errors.NotFound, errors.Unavailable):
                return

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("scheduler task failed", exc_info=task.exception())

    # ------------------------------------------------------------------ informer handlers

    def _on_node(self, node: Message) -> None:
        action = self.cache.set_node(node)
        if action is not None:
            self.queue.on_event(ClusterEvent(Resource.NODE, action, new=node))

    def _on_node_deleted(self, node: Message) -> None:
        self.cache.remove_node(node.metadata.name)
        self.queue.on_event(ClusterEvent(Resource.NODE, Action.DELETE, old=node))

    def _on_pod(self, pod: Message) -> None:
        key = (pod.metadata.namespace, pod.metadata.name)
        if pod.spec.node_name:
            self.queue.delete(key)
            if pod.status.phase in _TERMINAL:
                self._on_pod_deleted(pod)
                return
            if self.cache.confirm(pod):
                self.queue.on_event(ClusterEvent(Resource.ASSIGNED_POD, Action.ADD, new=self.cache.placed(key)))
                return
            info = self._info(pod)
            if info is None:
                return
            was = self.cache.placed(key)
            confirming = self.cache.is_assumed(key)
            self.cache.set_pod(info)
            self.cache.set_nominated(info)
            if was is None or confirming:
                self.queue.on_event(ClusterEvent(Resource.ASSIGNED_POD, Action.ADD, new=info))
            elif was.labels != info.labels:
                self.queue.on_event(ClusterEvent(Resource.ASSIGNED_POD, Action.UPDATE_LABELS, old=was, new=info))
            return
        if pod.spec.scheduler_name not in self.profiles or self.cache.is_assumed(key):
            return
        if pod.metadata.HasField("deletion_timestamp"):
            self.queue.delete(key)
            return
        info = self._info(pod)
        if info is not None:
            self.cache.set_nominated(info)
            self.queue.add(info)

    def _on_pod_update(self, old: Message, new: Message) -> None:
        if (old.spec.node_name and new.spec.node_name == old.spec.node_name
                and old.metadata.generation == new.metadata.generation
                and old.metadata.labels == new.metadata.labels
                and old.metadata.HasField("deletion_timestamp") == new.metadata.HasField("deletion_timestamp")
                and (new.status.phase in _TERMINAL) == (old.status.phase in _TERMINAL)):
            return   # a status report from the node: nothing the scheduler counts has changed
        self._on_pod(new)

    def _on_pod_deleted(self, pod: Message) -> None:
        key = (pod.metadata.namespace, pod.metadata.name)
        self.queue.delete(key)
        removed = self.cache.remove_pod(key)
        self.cache.clear_nominated(key)
        if removed is not None:
            self.queue.on_event(ClusterEvent(Resource.ASSIGNED_POD, Action.DELETE, old=removed))

    def _info(self, pod: Message) -> PodInfo | None:
        try:
            return pod_info(pod, priority=self._priority(pod), namespaces_matching=self._namespaces_matching)
        except ValueError as e:
            self.recorder.event(pod, "Warning", "FailedScheduling", f"invalid pod: {e}")
            return None

    def _priority(self, pod: Message) -> int:
        if pod.spec.HasField("priority"):
            return pod.spec.priority
        if pod.spec.priority_class_name:
            found = self._priority_classes.get(pod.spec.priority_class_name)
            return found.value if found is not None else 0
        return next((c.value for c in self._priority_classes.list() if c.global_default), 0)

    def _namespaces_matching(self, selector) -> frozenset[str]:
        return frozenset(ns.metadata.name for ns in self._namespaces.list() if selector.matches(ns.metadata.labels))


async def run_scheduler(client: Client, *, stop: asyncio.Event, config: SchedulerConfig = SchedulerConfig(),
                        identity: str = "") -> None:
    """The entry point `cox server` runs: schedule until `stop` is set."""
    await Scheduler(client, config, identity=identity).run(stop)


def _set_condition(pod: Message, message: str) -> bool:
    condition = next((c for c in pod.status.conditions if c.type == "PodScheduled"), None)
    if condition is not None and condition.status == "False" and condition.message == message:
        return False
    if condition is None:
        condition = pod.status.conditions.add(type="PodScheduled")
    if condition.status != "False":
        condition.last_transition_time.GetCurrentTime()
        condition.last_transition_time.nanos = 0
    condition.status, condition.reason, condition.message = "False", "Unschedulable", message
    return True


def _copy(pod: Message) -> Message:
    fresh = type(pod)()
    fresh.CopyFrom(pod)
    return fresh


async def _until(stop: asyncio.Event, task: asyncio.Task) -> None:
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([waiter, task], return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        task.cancel()
        results = await asyncio.gather(task, return_exceptions=True)
    if isinstance(results[0], Exception) and not isinstance(results[0], asyncio.CancelledError):
        raise results[0]
