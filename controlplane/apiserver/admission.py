"""Admission: checks and changes to an object between validation and the store.

Plugins see every create and update of the kinds they are attached to, and
are told when an object they admitted was not written or was deleted, so
anything they allocate (a ClusterIP, a NodePort) is given back.
"""
from google.protobuf.message import Message

from controlplane.apiserver import errors


class AdmissionPlugin:
    """Base with no-op hooks; a plugin overrides what it needs."""

    async def admit_create(self, obj: Message) -> None:
        pass

    async def admit_update(self, new: Message, old: Message) -> None:
        pass

    async def release(self, obj: Message) -> None:
        """The object was not written after all, or is gone: give back what it held."""


class NamespaceLifecycle(AdmissionPlugin):
    """No new objects in a namespace that does not exist or is being deleted.

    Asks the namespace watch cache first; only a namespace the cache has not
    seen yet (created a moment ago) costs a store read.
    """

    def __init__(self, namespaces, cache):
        self._namespaces = namespaces  # the Namespace Registry
        self._cache = cache            # and its WatchCache

    async def admit_create(self, obj: Message) -> None:
        name = obj.metadata.namespace
        cached = self._cache.get(self._namespaces.kind.key("", name))
        # NOT_FOUND from the store names the namespace.
        namespace = cached.obj if cached is not None else await self._namespaces.get("", name)
        if namespace.metadata.HasField("deletion_timestamp"):
            raise errors.forbidden(f'unable to create new content in namespace {name} '
                                   f'because it is being terminated')
