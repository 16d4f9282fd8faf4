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
    """No new objects in a namespace that does not exist or is being deleted."""

    def __init__(self, namespaces):
        self._namespaces = namespaces  # the Namespace Registry

    async def admit_create(self, obj: Message) -> None:
        name = obj.metadata.namespace
        namespace = await self._namespaces.get("", name)  # NOT_FOUND names the namespace
        if namespace.metadata.HasField("deletion_timestamp"):
            raise errors.forbidden(f'unable to create new content in namespace {name} '
                                   f'because it is being terminated')
