"""The garbage collector's picture of who owns whom, built from informer events.

One node per object uid, with its owner references and the uids of its
dependents. An owner that is referenced but not (yet) seen is a *virtual*
node: maybe it is still on its way through a watch, maybe it is gone; the
collector asks the API server before acting on it. Feeding an event in
returns the work it makes, as (action, uid) pairs:

  ATTEMPT     dependent `uid` may have lost its owners: check them, delete it if so
  FOREGROUND  `uid` is being deleted in the foreground: delete its dependents,
              and drop its finalizer once the blocking ones are gone
  ORPHAN      `uid` is being deleted with orphan propagation: free its dependents,
              then drop its finalizer
"""
import dataclasses

from google.protobuf.message import Message

ATTEMPT, FOREGROUND, ORPHAN = "attempt", "foreground", "orphan"
FOREGROUND_FINALIZER, ORPHAN_FINALIZER = "foregroundDeletion", "orphan"

Action = tuple[str, str]


@dataclasses.dataclass
class Node:
    uid: str
    kind: str
    namespace: str
    name: str
    owners: tuple = ()                 # OwnerReference messages
    dependents: set = dataclasses.field(default_factory=set)
    observed: bool = False             # False: only known as someone's owner
    deleting: bool = False
    finalizers: tuple = ()

    @property
    def waiting_for_dependents(self) -> bool:
        return self.deleting and FOREGROUND_FINALIZER in self.finalizers

    def blocks(self, owner_uid: str) -> bool:
        """Does this dependent hold back its owner's foreground deletion?"""
        return any(ref.uid == owner_uid and ref.block_owner_deletion for ref in self.owners)


class Graph:
    def __init__(self, namespaced: dict[str, bool]):
        self._namespaced = namespaced   # kind name -> namespaced?
        self.nodes: dict[str, Node] = {}

    def __contains__(self, uid: str) -> bool:
        node = self.nodes.get(uid)
        return node is not None and node.observed

    def get(self, uid: str) -> Node | None:
        return self.nodes.get(uid)

    def observe(self, kind: str, obj: Message) -> list[Action]:
        """An object was added or changed."""
        meta = obj.metadata
        node = self.nodes.get(meta.uid)
        if node is None:
            node = self.nodes[meta.uid] = Node(meta.uid, kind, meta.namespace, meta.name)
        old_owners = {ref.uid for ref in node.owners}
        was_blocking = {ref.uid for ref in node.owners if ref.block_owner_deletion}
        node.kind, node.namespace, node.name = kind, meta.namespace, meta.name
        node.observed = True
        node.owners = tuple(meta.owner_references)
        node.deleting = meta.HasField("deletion_timestamp")
        node.finalizers = tuple(meta.finalizers)
        actions: list[Action] = []
        new_owners = {ref.uid for ref in node.owners}
        for uid in old_owners - new_owners:
            owner = self.nodes.get(uid)
            if owner is not None:
                owner.dependents.discard(node.uid)
                self._drop_if_unneeded(owner)
                if owner.waiting_for_dependents and uid in was_blocking:
                    actions.append((FOREGROUND, uid))
        for ref in node.owners:
            owner = self.nodes.get(ref.uid)
            if owner is None:
                namespace = meta.namespace if self._namespaced.get(ref.kind, True) else ""
                owner = self.nodes[ref.uid] = Node(ref.uid, ref.kind, namespace, ref.name)
            owner.dependents.add(node.uid)
            if not owner.observed or owner.waiting_for_dependents:
                actions.append((ATTEMPT, node.uid))
        if node.waiting_for_dependents:
            actions.append((FOREGROUND, node.uid))
        if node.deleting and ORPHAN_FINALIZER in node.finalizers:
            actions.append((ORPHAN, node.uid))
        return list(dict.fromkeys(actions))

    def forget(self, obj: Message) -> list[Action]:
        """An object is gone from the store."""
        node = self.nodes.get(obj.metadata.uid)
        if node is None:
            return []
        actions = [(ATTEMPT, uid) for uid in node.dependents]
        for ref in node.owners:
            owner = self.nodes.get(ref.uid)
            if owner is not None:
                owner.dependents.discard(node.uid)
                if owner.waiting_for_dependents:
                    actions.append((FOREGROUND, owner.uid))
                self._drop_if_unneeded(owner)
        node.observed = False
        node.owners = ()
        node.deleting = False
        self._drop_if_unneeded(node)
        return actions

    def _drop_if_unneeded(self, node: Node) -> None:
        """A virtual node lives only as long as something names it as owner."""
        if not node.observed and not node.dependents:
            self.nodes.pop(node.uid, None)
