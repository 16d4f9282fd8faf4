"""The Namespace controller: empty a namespace being deleted, then let it go.

Deleting a namespace only marks it Terminating; the API server keeps it
while spec.finalizers holds "kubernetes". This controller deletes every
object in it, kind by kind, and looks again until nothing is left (pods
take their grace period; objects with finalizers take as long as those do),
then removes the finalizer, which lets the server remove the namespace.
"""
import time

from google.protobuf.message import Message

from controlplane.api.kinds import KINDS
from controlplane.client import errors
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.conditions import set_condition
from controlplane.controllers.ownership import clone

FINALIZER = "kubernetes"
RECHECK_SECONDS = 1.0
CONTENT_REMAINING = "NamespaceContentRemaining"


class NamespaceController(Controller):
    name = "namespace"
    workers = 2

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.namespaces = ctx.informers.informer("Namespace")
        self.api = ctx.client.resource("Namespace")
        self.follow(self.namespaces)

    async def sync(self, key) -> None:
        _, name = key
        namespace = self.namespaces.get(name)
        if namespace is None or not namespace.metadata.HasField("deletion_timestamp") \
                or FINALIZER not in namespace.spec.finalizers:
            return
        remaining = await self._delete_content(name)
        if remaining:
            await self._report(namespace, remaining)
            self.queue.add_after(key, RECHECK_SECONDS)
            return
        new = clone(namespace)
        keep = [f for f in new.spec.finalizers if f != FINALIZER]
        del new.spec.finalizers[:]
        new.spec.finalizers.extend(keep)
        try:
            await self.api.update(new)
        except errors.NotFound:
            pass

    async def _delete_content(self, namespace: str) -> dict[str, int]:
        """Delete what is left in `namespace`; returns how many objects of each kind remain."""
        remaining = {}
        for kind in KINDS.values():
            if not kind.namespaced:
                continue
            resource = self.client.resource(kind)
            listing = await resource.list(namespace=namespace)
            for obj in listing.items:
                if not obj.metadata.HasField("deletion_timestamp"):
                    try:
                        await resource.delete(obj.metadata.name, namespace=namespace, uid=obj.metadata.uid)
                    except (errors.NotFound, errors.Conflict):
                        pass
            if listing.items:
                remaining[kind.plural] = len(listing.items)
        return remaining

    async def _report(self, namespace: Message, remaining: dict[str, int]) -> None:
        message = "Some resources are remaining: " + ", ".join(
            f"{plural} has {count} resource instances" for plural, count in sorted(remaining.items()))
        new = clone(namespace)
        set_condition(new.status, CONTENT_REMAINING, "True", "SomeResourcesRemain", message, time.time())
        if new.status != namespace.status:
            await self.api.update_status(new)
