"""Which objects a controller owns: claim by controllerRef, adopt orphans, release strays.

A ReplicaSet owns the pods whose controlling ownerReference names its uid,
and a Deployment the ReplicaSets likewise. Label selectors decide what *may*
be owned: an orphan that matches is adopted (its ownerReference added), an
owned object whose labels stopped matching is released (reference removed),
and nothing is adopted by an owner that is being deleted. Every change is a
conditional update, so a concurrent change makes it fail and retry rather
than lose someone else's write.
"""
from google.protobuf.message import Message

from controlplane.api import selectors
from controlplane.client import Resource, errors
from controlplane.controllers.pods import controller_ref, is_deleting, owner_reference

_SELECTORS: dict[str, selectors.Selector] = {}
_SELECTOR_CACHE_LIMIT = 10_000


def selector_of(owner: Message) -> selectors.Selector | None:
    """The owner's spec.selector (immutable, so cached by uid); None for an unset selector."""
    uid = owner.metadata.uid
    found = _SELECTORS.get(uid)
    if found is None:
        if not owner.spec.HasField("selector"):
            return None
        if len(_SELECTORS) > _SELECTOR_CACHE_LIMIT:
            _SELECTORS.clear()
        found = _SELECTORS[uid] = selectors.from_label_selector(owner.spec.selector)
    return found


def clone(obj: Message) -> Message:
    """A copy to change and write back (cached objects are shared: never change them)."""
    new = type(obj)()
    new.CopyFrom(obj)
    return new


async def adopt(resource: Resource, obj: Message, owner: Message) -> Message:
    new = clone(obj)
    new.metadata.owner_references.append(owner_reference(owner))
    return await resource.update(new)


async def release(resource: Resource, obj: Message, owner_uid: str) -> None:
    new = clone(obj)
    keep = [ref for ref in new.metadata.owner_references if ref.uid != owner_uid]
    del new.metadata.owner_references[:]
    new.metadata.owner_references.extend(keep)
    try:
        await resource.update(new)
    except errors.NotFound:
        pass


async def remove_finalizer(resource: Resource, obj: Message, finalizer: str) -> None:
    """Take `finalizer` off `obj` (an object already gone needs nothing)."""
    if finalizer not in obj.metadata.finalizers:
        return
    new = clone(obj)
    keep = [f for f in new.metadata.finalizers if f != finalizer]
    del new.metadata.finalizers[:]
    new.metadata.finalizers.extend(keep)
    try:
        await resource.update(new)
    except errors.NotFound:
        pass


async def claim(resource: Resource, owner: Message, *, owned: list[Message],
                orphans: list[Message]) -> list[Message]:
    """The objects `owner` controls after adopting matching orphans and releasing strays.

    `owned` are the objects whose controllerRef is the owner's uid, `orphans`
    the objects in its namespace with no controllerRef (both from a cache).
    """
    selector = selector_of(owner)
    mine = []
    for obj in owned:
        if selector is not None and selector.matches(obj.metadata.labels) or is_deleting(obj):
            mine.append(obj)
        elif not is_deleting(owner):
            await release(resource, obj, owner.metadata.uid)
    if selector is None or selector.empty or is_deleting(owner):
        return mine
    for obj in orphans:
        if controller_ref(obj) is None and not is_deleting(obj) and selector.matches(obj.metadata.labels):
            try:
                mine.append(await adopt(resource, obj, owner))
            except errors.NotFound:
                pass
    return mine
