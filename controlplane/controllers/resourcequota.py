"""The resource quota controller: each ResourceQuota's status (hard and used), recounted from what exists.

Admission charges a new object to status.used before writing it
(apiserver/quotas.py); this controller recounts from the informers (and, for
`count/events`, a list) so that deletes, pods that finish and charges for
objects never written give their room back. As in
Kubernetes it recounts when a quota is made or its spec changes, when a
counted object goes or stops counting, and on a periodic resync, but not on
every create (admission already counted it, and recounting from an informer
that has not seen the object yet would undercount). The write is conditional
on the quota's resourceVersion, so it never overwrites a charge it did not see.
"""
import asyncio

from google.protobuf.message import Message

from controlplane.api import resourcequota
from controlplane.api.kinds import KINDS
from controlplane.api.v1 import quota_pb2
from controlplane.controllers import pods as podutil
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.garbagecollector import IGNORED_KINDS
from controlplane.controllers.ownership import clone

# Every namespaced kind, through the informers the garbage collector shares (so free in a full manager);
# Events, which it leaves out as too many, are listed at sync when a quota counts them (`count/events`).
_WATCHED = tuple(k.name for k in KINDS.values() if k.namespaced and k.name not in IGNORED_KINDS)


def compute_status(quota: Message, objects) -> quota_pb2.ResourceQuotaStatus:
    """The status `quota` should have over `objects` (its namespace's)."""
    return quota_pb2.ResourceQuotaStatus(hard=dict(quota.spec.hard), used=resourcequota.compute_used(quota, objects))


def listed_kinds(quota: Message) -> set[str]:
    """Kinds outside _WATCHED that the quota counts (`count/events`)."""
    found = set()
    for name in quota.spec.hard:
        if name.startswith("count/"):
            for kind in KINDS.values():
                if name == f"count/{kind.plural}" + (f".{kind.group}" if kind.group else ""):
                    found.add(kind.name)
    return found - set(_WATCHED)


class ResourceQuotaController(Controller):
    name = "resourcequota"
    workers = 2

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.watched = {}
        for kind in _WATCHED:
            informer = self.watched[kind] = ctx.informers.informer(kind)
            informer.add_index(podutil.BY_NAMESPACE, podutil.index_by_namespace)
        self.quotas = self.watched["ResourceQuota"]
        self.api = ctx.client.resource("ResourceQuota")
        self.quotas.add_handler(on_add=self.enqueue, on_update=self._quota_changed)
        for kind, informer in self.watched.items():
            informer.add_handler(on_update=self._object_changed, on_delete=self._recount_namespace)

    def _quota_changed(self, old: Message, new: Message) -> None:
        if old.spec != new.spec or new.status.hard != new.spec.hard:
            self.enqueue(new)

    def _object_changed(self, old: Message, new: Message) -> None:
        """An object whose count changes (a pod finishing, a Service changing type) frees or takes room."""
        quotas = self.quotas.by_index(podutil.BY_NAMESPACE, new.metadata.namespace)
        if quotas and resourcequota.usage(old) != resourcequota.usage(new):
            for quota in quotas:
                self.enqueue(quota)

    def _recount_namespace(self, obj: Message) -> None:
        for quota in self.quotas.by_index(podutil.BY_NAMESPACE, obj.metadata.namespace):
            self.enqueue(quota)

    def background(self):
        return [self._resync()]

    async def _resync(self) -> None:
        while True:
            await asyncio.sleep(self.options.resource_quota_sync_period)
            for quota in self.quotas.list():
                self.enqueue(quota)

    async def sync(self, key) -> None:
        namespace, name = key
        quota = self.quotas.get(name, namespace)
        if quota is None:
            return
        objects = [o for informer in self.watched.values() for o in informer.by_index(podutil.BY_NAMESPACE, namespace)]
        for kind in sorted(listed_kinds(quota)):
            objects += (await self.client.resource(kind).list(namespace=namespace)).items
        status = compute_status(quota, objects)
        if status != quota.status:
            new = clone(quota)
            new.status.CopyFrom(status)
            await self.api.update_status(new)
