"""Pod garbage collection: pods nobody else will ever finish.

Two kinds of pod would otherwise stay in the API for good:

- *orphans*: bound to a node that no longer exists. No kubelet will ever
  finish their deletion, so the node lifecycle controller's evictions and the
  ReplicaSet's scale-downs of them would hang in Terminating. A node missing
  from the cache is first held in quarantine (it may be re-registering, or
  the cache may be behind) and then looked up on the server; only a node the
  server does not have either makes its pods orphans. They are deleted with
  no grace: their containers, if the node ever returns, are removed by its
  kubelet, which deletes containers of pods that no longer exist.
- *finished pods beyond a threshold* (`--terminated-pod-gc-threshold`, 12,500
  as in Kubernetes; 0 turns it off): the oldest Succeeded/Failed pods go
  first, so a busy Job history cannot grow the store without bound.

One key, swept every `PERIOD` seconds (and a quarantine after a node is
deleted): the work is a scan of the caches.
"""
import time

from controlplane.client import errors
from controlplane.controllers import pods as podutil
from controlplane.controllers.base import Context, Controller

PERIOD = 20.0   # seconds between sweeps
SWEEP = "sweep"


class PodGCController(Controller):
    name = "podgc"
    workers = 1

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.pods = ctx.informers.informer("Pod")
        self.nodes = ctx.informers.informer("Node")
        self.pods.add_index(podutil.BY_NODE, podutil.index_by_node)
        self.pod_api = ctx.client.resource("Pod")
        self.node_api = ctx.client.resource("Node")
        self.quarantine = ctx.options.pod_gc_quarantine
        self.threshold = ctx.options.terminated_pod_gc_threshold
        self._missing_since: dict[str, float] = {}   # node name -> when the cache first lacked it
        self.nodes.add_handler(on_delete=self._node_deleted)

    async def prepare(self) -> None:
        self.queue.add(SWEEP)

    def _node_deleted(self, node) -> None:
        self._missing_since.setdefault(node.metadata.name, time.monotonic())
        self.queue.add_after(SWEEP, self.quarantine)

    async def sync(self, key) -> None:
        try:
            await self._delete_orphans()
            await self._delete_oldest_finished()
        finally:
            self.queue.add_after(SWEEP, PERIOD)

    async def _delete_orphans(self) -> None:
        now = time.monotonic()
        missing = [name for name in self.pods.index_values(podutil.BY_NODE) if self.nodes.get(name) is None]
        self._missing_since = {name: self._missing_since.get(name, now) for name in missing}
        for name, since in list(self._missing_since.items()):
            if now - since < self.quarantine or await self._node_exists(name):
                continue
            for pod in self.pods.by_index(podutil.BY_NODE, name):
                await self._force_delete(pod, f"node {name} no longer exists")
            del self._missing_since[name]

    async def _node_exists(self, name: str) -> bool:
        try:
            await self.node_api.get(name)
        except errors.NotFound:
            return False
        return True

    async def _delete_oldest_finished(self) -> None:
        if self.threshold <= 0:
            return
        finished = [p for p in self.pods.list()
                    if p.status.phase in podutil.FINISHED_PHASES and not podutil.is_deleting(p)]
        excess = len(finished) - self.threshold
        if excess <= 0:
            return
        finished.sort(key=lambda p: (p.metadata.creation_timestamp.seconds, p.metadata.creation_timestamp.nanos))
        for pod in finished[:excess]:
            await self._force_delete(pod, f"more than {self.threshold} finished pods")

    async def _force_delete(self, pod, why: str) -> None:
        try:
            await self.pod_api.delete(pod.metadata.name, namespace=pod.metadata.namespace, grace_period_seconds=0,
                                      uid=pod.metadata.uid)
        except (errors.NotFound, errors.Conflict):
            return   # gone already, or a new pod of that name
        self.recorder.event(pod, "Normal", "PodGC", f"Deleted: {why}")
