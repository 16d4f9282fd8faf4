"""Node lifecycle: notice nodes that stopped reporting, taint them, evict their pods.

A kubelet proves it is alive by renewing its Lease (kube-node-lease/<node>)
and posting node status. When neither has changed for the grace period
(--node-monitor-grace-period, 40 s), the node's conditions go Unknown
("Kubelet stopped posting node status"), its pods are marked not ready (so
Services stop sending to them), and it gets the `unreachable` taints (a node
whose kubelet reports Ready=False gets the `not-ready` ones). Time is measured
by this process's clock from when a change was *seen*, so clock skew between
hosts does not matter.

Tainting with NoExecute is what evicts: a pod on such a node is deleted once
its toleration of the taint runs out (pods tolerate both taints for 300 s by
default), at once if it does not tolerate it. Taints are added at a limited
rate per zone (--node-eviction-rate nodes per second), slower when much of a
large zone is down, and not at all when a whole zone is: then the fault is
more likely the control plane's network than every node. A node that
reports Ready again loses its taints.
"""
import asyncio
import dataclasses
import logging
import time

from google.protobuf.message import Message

from controlplane.api.defaults import NOT_READY_TAINT, UNREACHABLE_TAINT
from controlplane.api.wellknown import NODE_LEASE_NAMESPACE
from controlplane.api.v1 import core_pb2
from controlplane.client import errors
from controlplane.client.events import NORMAL, WARNING
from controlplane.controllers import pods as podutil
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.conditions import condition
from controlplane.controllers.ownership import clone
from controlplane.controllers.pods import tolerates

log = logging.getLogger(__name__)

ZONE_LABEL = "topology.kubernetes.io/zone"
NO_EXECUTE, NO_SCHEDULE = "NoExecute", "NoSchedule"
_LIFECYCLE_TAINTS = (NOT_READY_TAINT, UNREACHABLE_TAINT)

NORMAL_ZONE, PARTIAL_DISRUPTION, FULL_DISRUPTION = "Normal", "PartialDisruption", "FullDisruption"


# ---------------------------------------------------------------- pure rules

def ready_status(node: Message) -> str:
    """The Ready condition's status: True, False or Unknown (Unknown when absent)."""
    ready = condition(node.status, "Ready")
    return ready.status if ready is not None else "Unknown"


def wanted_taint(node: Message) -> str | None:
    """The lifecycle taint key the node should carry, by its Ready condition."""
    return {"True": None, "False": NOT_READY_TAINT}.get(ready_status(node), UNREACHABLE_TAINT)


def zone_of(node: Message) -> str:
    return node.metadata.labels.get(ZONE_LABEL, "")


def zone_state(ready: int, not_ready: int, *, unhealthy_threshold: float) -> str:
    """Kubernetes' zone states: all down is a full disruption; >2 down and >= threshold, partial."""
    if ready == 0 and not_ready > 0:
        return FULL_DISRUPTION
    if not_ready > 2 and not_ready / (ready + not_ready) >= unhealthy_threshold:
        return PARTIAL_DISRUPTION
    return NORMAL_ZONE


def eviction_time(pod: Message, taints: list[Message]) -> float | None:
    """When `pod` must leave a node with these NoExecute taints: a time, 0 for now, None for never."""
    due = None
    for taint in taints:
        if taint.effect != NO_EXECUTE:
            continue
        matching = [t for t in pod.spec.tolerations if tolerates(t, taint)]
        if not matching:
            return 0.0
        limits = [t.toleration_seconds for t in matching if t.HasField("toleration_seconds")]
        if len(limits) < len(matching):
            continue  # one toleration holds forever
        at = taint.time_added.seconds + max(min(limits), 0)
        due = at if due is None else min(due, at)
    return due


def with_lifecycle_taints(node: Message, key: str | None, now: float, *,
                          effects: tuple[str, ...] = (NO_SCHEDULE, NO_EXECUTE)) -> list[Message] | None:
    """The node's taints with exactly `key`'s lifecycle taints of these effects; None if unchanged.

    A full disruption asks for NoSchedule alone: new pods stay away, the
    running ones are not evicted (Kubernetes marks such nodes reachable).
    """
    keep = [t for t in node.spec.taints if t.key not in _LIFECYCLE_TAINTS]
    have = [t for t in node.spec.taints if t.key in _LIFECYCLE_TAINTS]
    if key is None:
        return keep if have else None
    if sorted((t.key, t.effect) for t in have) == sorted((key, e) for e in effects):
        return None
    taints = [clone(t) for t in keep]
    for effect in effects:
        taint = core_pb2.Taint(key=key, effect=effect)
        taint.time_added.seconds = int(now)
        taints.append(taint)
    return taints


@dataclasses.dataclass
class _TokenBucket:
    rate: float
    burst: float = 1.0
    tokens: float = 1.0
    at: float = 0.0

    def take(self, now: float) -> bool:
        if self.rate <= 0:
            return False
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate) if self.at else self.tokens
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


# ---------------------------------------------------------------- the controller

class NodeLifecycleController(Controller):
    """Keys: ("status", node) checks heartbeats and taints; ("evict", node) evicts pods."""

    name = "nodelifecycle"
    workers = 4

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.nodes = ctx.informers.informer("Node")
        self.leases = ctx.informers.informer("Lease", namespace=NODE_LEASE_NAMESPACE)
        self.pods = ctx.informers.informer("Pod")
        self.pods.add_index(podutil.BY_NODE, podutil.index_by_node)
        self.api = ctx.client.resource("Node")
        self.pod_api = ctx.client.resource("Pod")
        self._seen: dict[str, tuple[tuple, float]] = {}  # node -> (heartbeat token, when we saw it change)
        self._buckets: dict[str, _TokenBucket] = {}
        self.nodes.add_handler(on_add=self._node_changed, on_update=lambda _o, n: self._node_changed(n),
                               on_delete=self._node_deleted)
        self.pods.add_handler(on_add=self._pod_changed, on_update=lambda _o, p: self._pod_changed(p))

    def _node_changed(self, node: Message) -> None:
        self.queue.add(("status", node.metadata.name))
        if any(t.effect == NO_EXECUTE for t in node.spec.taints):
            self.queue.add(("evict", node.metadata.name))

    def _node_deleted(self, node: Message) -> None:
        self._seen.pop(node.metadata.name, None)

    def _pod_changed(self, pod: Message) -> None:
        node = self.nodes.get(pod.spec.node_name) if pod.spec.node_name else None
        if node is not None and any(t.effect == NO_EXECUTE for t in node.spec.taints):
            self.queue.add(("evict", node.metadata.name))

    def background(self):
        return [self._monitor()]

    async def _monitor(self) -> None:
        """Every monitor period, look at every node: heartbeats are noticed by their absence."""
        while True:
            for node in self.nodes.list():
                self.queue.add(("status", node.metadata.name))
            await asyncio.sleep(self.options.node_monitor_period)

    # -- heartbeats

    def _last_heartbeat(self, node: Message, now: float) -> float:
        """When (by our clock) we last saw the node's lease or Ready heartbeat change."""
        name = node.metadata.name
        lease = self.leases.get(name, NODE_LEASE_NAMESPACE)
        ready = condition(node.status, "Ready")
        renewed = (lease.spec.renew_time.seconds, lease.spec.renew_time.nanos) if lease is not None else None
        posted = ready.last_heartbeat_time.seconds if ready is not None else None
        token = (renewed, posted)
        seen = self._seen.get(name)
        if seen is None or seen[0] != token:
            self._seen[name] = (token, now)
            return now
        return seen[1]

    def _judged_ready(self, node: Message, now: float) -> bool:
        """Ready by its condition and by its heartbeat: a node we are about to mark Unknown is not."""
        seen = self._seen.get(node.metadata.name)
        fresh = seen is None or now - seen[1] <= self.options.node_monitor_grace_period
        return ready_status(node) == "True" and fresh

    def _zone_state(self, zone: str) -> str:
        nodes = [n for n in self.nodes.list() if zone_of(n) == zone]
        now = time.monotonic()
        ready = sum(1 for n in nodes if self._judged_ready(n, now))
        return zone_state(ready, len(nodes) - ready, unhealthy_threshold=self.options.unhealthy_zone_threshold)

    def _may_taint(self, zone: str, now: float) -> bool:
        state = self._zone_state(zone)
        size = sum(1 for n in self.nodes.list() if zone_of(n) == zone)
        opts = self.options
        if state == FULL_DISRUPTION:
            rate = 0.0
        elif state == PARTIAL_DISRUPTION:
            rate = opts.secondary_node_eviction_rate if size > opts.large_cluster_size_threshold else 0.0
        else:
            rate = opts.node_eviction_rate
        bucket = self._buckets.setdefault(zone, _TokenBucket(rate))
        bucket.rate = rate
        return bucket.take(now)

    # -- sync

    async def sync(self, key) -> None:
        what, name = key
        node = self.nodes.get(name)
        if node is None:
            return
        if what == "status":
            await self._check_node(node)
        else:
            await self._evict(node)

    async def _check_node(self, node: Message) -> None:
        now = time.time()
        seen = self._last_heartbeat(node, time.monotonic())
        ready = condition(node.status, "Ready")
        grace = self.options.node_monitor_grace_period if ready is not None \
            else self.options.node_startup_grace_period
        if time.monotonic() - seen > grace and (ready is None or ready.status != "Unknown"):
            node = await self._mark_unknown(node, now)
        await self._sync_taints(node, now)

    async def _mark_unknown(self, node: Message, now: float) -> Message:
        new = clone(node)
        if condition(new.status, "Ready") is None:
            new.status.conditions.add(type="Ready", reason="NodeStatusNeverUpdated",
                                      message="Kubelet never posted node status.")
        for c in new.status.conditions:
            if c.status == "Unknown" and c.reason:
                continue
            c.status = "Unknown"
            c.reason = "NodeStatusUnknown"
            c.message = "Kubelet stopped posting node status."
            c.last_transition_time.seconds = int(now)
        node = await self.api.update_status(new)
        self.recorder.event(node, NORMAL, "NodeNotReady", f"Node {node.metadata.name} status is now: NodeNotReady")
        await self._mark_pods_not_ready(node, now)
        return node

    async def _mark_pods_not_ready(self, node: Message, now: float) -> None:
        for pod in self.pods.by_index(podutil.BY_NODE, node.metadata.name):
            ready = podutil.ready_condition(pod)
            if ready is None or ready.status != "True" or podutil.is_deleting(pod):
                continue
            new = clone(pod)
            for c in new.status.conditions:
                if c.type in ("Ready", "ContainersReady"):
                    c.status = "False"
                    c.reason = "NodeNotReady" if c.type == "Ready" else c.reason
                    c.last_transition_time.seconds = int(now)
            try:
                await self.pod_api.update_status(new)
            except (errors.NotFound, errors.Conflict) as e:
                log.debug("marking pod %s not ready: %s", pod.metadata.name, e)

    async def _sync_taints(self, node: Message, now: float) -> None:
        key = wanted_taint(node)
        if key is not None and self._zone_state(zone_of(node)) == FULL_DISRUPTION:
            # Every node of the zone silent at once: more likely our network than
            # the nodes. Take back NoExecute taints put on before the last one went.
            evicting = any(t.key in _LIFECYCLE_TAINTS and t.effect == NO_EXECUTE for t in node.spec.taints)
            taints = with_lifecycle_taints(node, key, now, effects=(NO_SCHEDULE,)) if evicting else None
            if taints is not None:
                await self._write_taints(node, taints)
                self.recorder.event(node, WARNING, "ZoneFullDisruption",
                                    f"Node {node.metadata.name}: every node of its zone is down; not evicting")
            return
        taints = with_lifecycle_taints(node, key, now)
        if taints is None:
            return
        if key is not None and not self._may_taint(zone_of(node), now):
            self.queue.add_after(("status", node.metadata.name), 1.0)
            return
        await self._write_taints(node, taints)
        if key is None:
            self.recorder.event(node, NORMAL, "NodeReady", f"Node {node.metadata.name} is ready again")
        else:
            self.recorder.event(node, WARNING, "NodeTainted", f"Node {node.metadata.name} tainted {key}")

    async def _write_taints(self, node: Message, taints: list[Message]) -> None:
        new = clone(node)
        del new.spec.taints[:]
        new.spec.taints.extend(taints)
        await self.api.update(new)

    async def _evict(self, node: Message) -> None:
        taints = [t for t in node.spec.taints if t.effect == NO_EXECUTE]
        if not taints:
            return
        now = time.time()
        next_due = None
        for pod in self.pods.by_index(podutil.BY_NODE, node.metadata.name):
            if podutil.is_deleting(pod) or pod.status.phase in podutil.FINISHED_PHASES:
                continue
            due = eviction_time(pod, taints)
            if due is None:
                continue
            if due > now:
                next_due = due if next_due is None else min(next_due, due)
                continue
            try:
                await self.pod_api.delete(pod.metadata.name, namespace=pod.metadata.namespace,
                                          uid=pod.metadata.uid)
            except errors.NotFound:
                continue
            self.recorder.event(pod, NORMAL, "TaintManagerEviction",
                                f"Marking for deletion Pod {pod.metadata.namespace}/{pod.metadata.name}")
        if next_due is not None:
            self.queue.add_after(("evict", node.metadata.name), next_due - now + 0.05)
