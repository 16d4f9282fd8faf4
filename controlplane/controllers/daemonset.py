"""The DaemonSet controller: one pod on every node that should run one.

Each sync claims the DaemonSet's pods, asks daemonplan what to create and
delete (first the manage step: missing, failed, surplus and misplaced pods;
once that has nothing to do, the next RollingUpdate step), does it, and
writes status. Pods are created pinned to their node by node affinity and
placed by the scheduler, as in Kubernetes. Node additions, deletions and
changes of labels or taints requeue every DaemonSet; pod events requeue
their owner (PodOwnerController).
"""
import time

from google.protobuf.message import Message

from controlplane.controllers import daemonplan
from controlplane.controllers import pods as podutil
from controlplane.controllers.base import Context
from controlplane.controllers.ownership import clone
from controlplane.controllers.podowner import PodOwnerController


class DaemonSetController(PodOwnerController):
    name = "daemonset"
    owner_kind = "DaemonSet"
    workers = 2
    min_sync_interval = 0.1

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.nodes = ctx.informers.informer("Node")
        self.nodes.add_handler(on_add=self._node_event, on_delete=self._node_event,
                               on_update=self._node_updated)

    def _node_event(self, _node: Message) -> None:
        for ds in self.owners.list():
            self.enqueue(ds)

    def _node_updated(self, old: Message, new: Message) -> None:
        if old.metadata.labels != new.metadata.labels or list(old.spec.taints) != list(new.spec.taints):
            self._node_event(new)

    async def sync(self, key) -> None:
        ds = self.owner_of_key(key)
        if ds is None:
            return
        pods = await self.claim_pods(ds)
        placed = daemonplan.placements(ds, self.nodes.list())
        hash_ = daemonplan.current_hash(ds)
        now = time.time()
        if self.expectations.satisfied(key) and not podutil.is_deleting(ds):
            plan = daemonplan.manage(ds, placed, pods, hash_)
            if not (plan.create_on or plan.delete) and ds.spec.update_strategy.type == "RollingUpdate":
                plan = daemonplan.rolling_update(ds, placed, pods, hash_, now)
            if plan.delete:
                await self.delete_pods(ds, plan.delete)
            if plan.create_on:
                await self.create_pods(ds, len(plan.create_on),
                                       make=lambda i: daemonplan.daemon_pod(ds, plan.create_on[i], hash_))
        status = daemonplan.compute_status(ds, placed, pods, hash_, now)
        if status != ds.status:
            new = clone(ds)
            new.status.CopyFrom(status)
            await self.api.update_status(new)
        if (wait := daemonplan.next_availability_check(ds, pods, now)) is not None:
            self.queue.add_after(key, wait + 0.05)
