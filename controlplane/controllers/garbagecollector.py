"""The garbage collector: delete objects whose owners are gone, as each deletion asked.

It watches every kind (Events aside) into a graph of owner references
(gcgraph.py) and works on what the graph says:

- background (the default): the owner is gone at once; each dependent whose
  owners are all gone is then deleted, in turn, the same way;
- foreground: the API server keeps the owner (deletionTimestamp set,
  finalizer `foregroundDeletion`) while the collector deletes its dependents
  (those with blockOwnerDeletion in the foreground too); when no blocking
  dependent is left, it removes the finalizer and the owner goes;
- orphan: the owner is kept (finalizer `orphan`) while the collector removes
  the owner's reference from every dependent, then the finalizer.

Before deleting a dependent for want of an owner the graph has not seen, it
asks the API server, so an owner still on its way through a watch is never
taken for gone.
"""
import collections
import logging

from google.protobuf.message import Message

from controlplane.api.kinds import KINDS
from controlplane.client import errors
from controlplane.controllers import gcgraph
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.gcgraph import ATTEMPT, FOREGROUND, ORPHAN, Graph
from controlplane.controllers.ownership import clone, remove_finalizer

log = logging.getLogger(__name__)

IGNORED_KINDS = ("Event",)
_ABSENT_CACHE = 10_000

SOLID, DANGLING, WAITING = "solid", "dangling", "waiting"


class GarbageCollector(Controller):
    """Keys are (action, uid) from the graph."""

    name = "garbagecollector"
    workers = 10

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.graph = Graph({k.name: k.namespaced for k in KINDS.values()})
        self.informers = {}
        self._absent: collections.OrderedDict[str, None] = collections.OrderedDict()
        for kind in KINDS.values():
            if kind.name in IGNORED_KINDS:
                continue
            informer = ctx.informers.informer(kind.name)
            self.informers[kind.name] = informer
            informer.add_handler(on_add=lambda obj, k=kind.name: self._add(self.graph.observe(k, obj)),
                                 on_update=lambda _o, obj, k=kind.name: self._add(self.graph.observe(k, obj)),
                                 on_delete=self._deleted)

    def _add(self, actions: list) -> None:
        for action in actions:
            self.queue.add(action)

    def _deleted(self, obj: Message) -> None:
        self._remember_absent(obj.metadata.uid)
        self._add(self.graph.forget(obj))

    def _remember_absent(self, uid: str) -> None:
        self._absent[uid] = None
        if len(self._absent) > _ABSENT_CACHE:
            self._absent.popitem(last=False)

    def _object(self, node: gcgraph.Node) -> Message | None:
        informer = self.informers.get(node.kind)
        obj = informer.get(node.name, node.namespace) if informer is not None else None
        return obj if obj is not None and obj.metadata.uid == node.uid else None

    # -- sync

    async def sync(self, key) -> None:
        action, uid = key
        node = self.graph.get(uid)
        if node is None or not node.observed:
            return
        obj = self._object(node)
        if obj is None:
            return
        if action == ORPHAN:
            await self._orphan(node, obj)
        elif action == FOREGROUND or node.waiting_for_dependents:
            await self._delete_dependents(node, obj)
        elif action == ATTEMPT and not node.deleting:
            await self._attempt(node, obj)

    async def _owner_state(self, ref, namespace: str) -> str:
        owner = self.graph.get(ref.uid)
        if owner is not None and owner.observed:
            return WAITING if owner.waiting_for_dependents else SOLID
        if ref.uid in self._absent:
            return DANGLING
        kind = KINDS.get(ref.kind)
        if kind is None:
            return SOLID  # a kind we do not serve: never delete on its account
        try:
            found = await self.client.resource(kind).get(ref.name, namespace=namespace if kind.namespaced else "")
        except errors.NotFound:
            self._remember_absent(ref.uid)
            return DANGLING
        if found.metadata.uid != ref.uid:
            self._remember_absent(ref.uid)
            return DANGLING
        return WAITING if (found.metadata.HasField("deletion_timestamp")
                           and gcgraph.FOREGROUND_FINALIZER in found.metadata.finalizers) else SOLID

    async def _attempt(self, node: gcgraph.Node, obj: Message) -> None:
        """Delete `obj` if none of its owners remain; drop references to gone ones if some do."""
        if not node.owners:
            return
        states = {ref.uid: await self._owner_state(ref, node.namespace) for ref in node.owners}
        if SOLID in states.values():
            gone = {uid for uid, state in states.items() if state != SOLID}
            if gone:
                await self._remove_owner_refs(node.kind, obj, gone)
            return
        if WAITING in states.values():
            policy = "Foreground" if node.dependents else "Background"
        elif gcgraph.ORPHAN_FINALIZER in node.finalizers:
            policy = "Orphan"
        elif gcgraph.FOREGROUND_FINALIZER in node.finalizers:
            policy = "Foreground"
        else:
            policy = "Background"
        log.debug("deleting %s %s/%s (%s): its owners are gone", node.kind, node.namespace, node.name, policy)
        try:
            await self.client.resource(node.kind).delete(node.name, namespace=node.namespace, uid=node.uid,
                                                         propagation_policy=policy)
        except errors.NotFound:
            pass

    async def _delete_dependents(self, node: gcgraph.Node, obj: Message) -> None:
        """Foreground deletion: dependents first; the owner's finalizer goes when no blocker is left."""
        blocking = 0
        for uid in list(node.dependents):
            dependent = self.graph.get(uid)
            if dependent is None or not dependent.observed:
                continue
            if dependent.blocks(node.uid):
                blocking += 1
            if not dependent.deleting:
                self.queue.add((ATTEMPT, uid))
        if blocking == 0:
            await remove_finalizer(self.client.resource(node.kind), obj, gcgraph.FOREGROUND_FINALIZER)

    async def _orphan(self, node: gcgraph.Node, obj: Message) -> None:
        for uid in list(node.dependents):
            dependent = self.graph.get(uid)
            if dependent is None or not dependent.observed:
                continue
            current = self._object(dependent)
            if current is not None:
                await self._remove_owner_refs(dependent.kind, current, {node.uid})
        await remove_finalizer(self.client.resource(node.kind), obj, gcgraph.ORPHAN_FINALIZER)

    async def _remove_owner_refs(self, kind: str, obj: Message, uids: set[str]) -> None:
        new = clone(obj)
        keep = [ref for ref in new.metadata.owner_references if ref.uid not in uids]
        del new.metadata.owner_references[:]
        new.metadata.owner_references.extend(keep)
        try:
            await self.client.resource(kind).update(new)
        except errors.NotFound:
            pass

