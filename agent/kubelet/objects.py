"""Where the kubelet reads the ConfigMaps, Secrets and claims its pods refer to, and the Services.

Pods name ConfigMaps and Secrets (env, envFrom, volumes); the kubelet fetches
them when it starts a container or projects a volume. With an API server they
come from it; a node running only static pods has none, and a pod that needs
one fails to start with a message that says so. Services, which every
container's environment lists (serviceenv.py), come from an informer instead:
they are read at every container start.
"""
import asyncio
from typing import Protocol

from google.protobuf.message import Message

from agent.kubelet.sources import Source
from controlplane.client import Client
from controlplane.client.errors import NotFound


class ObjectSource(Protocol):
    async def config_map(self, namespace: str, name: str) -> Message | None: ...

    async def secret(self, namespace: str, name: str) -> Message | None: ...

    async def persistent_volume_claim(self, namespace: str, name: str) -> Message | None: ...

    async def persistent_volume(self, name: str) -> Message | None: ...

    async def services(self) -> list[Message] | None:
        """Every Service; None while they have not been listed yet."""


SERVICES_SYNC_WAIT = 10.0   # seconds a container start waits for the first listing of Services


class ApiObjects:
    """ConfigMaps and Secrets read from the API server at the moment they are needed;
    Services from `services` (an informer the kubelet runs; None: this kubelet has none, as
    hollow nodes, and its pods get no Service variables)."""

    def __init__(self, client: Client, *, services: Source | None = None) -> None:
        self._client = client
        self._services = services

    async def services(self) -> list[Message] | None:
        if self._services is None:
            return []
        try:
            await self._services.wait_synced(SERVICES_SYNC_WAIT)
        except asyncio.TimeoutError:
            return None
        return self._services.list()

    async def config_map(self, namespace: str, name: str) -> Message | None:
        return await self._get("ConfigMap", namespace, name)

    async def secret(self, namespace: str, name: str) -> Message | None:
        return await self._get("Secret", namespace, name)

    async def persistent_volume_claim(self, namespace: str, name: str) -> Message | None:
        return await self._get("PersistentVolumeClaim", namespace, name)

    async def persistent_volume(self, name: str) -> Message | None:
        return await self._get("PersistentVolume", "", name)

    async def _get(self, kind: str, namespace: str, name: str) -> Message | None:
        try:
            return await self._client.resource(kind).get(name, namespace=namespace)
        except NotFound:
            return None


class NoObjects:
    """The source of a node without an API server: nothing exists."""

    async def config_map(self, namespace: str, name: str) -> Message | None:
        return None

    async def secret(self, namespace: str, name: str) -> Message | None:
        return None

    async def persistent_volume_claim(self, namespace: str, name: str) -> Message | None:
        return None

    async def persistent_volume(self, name: str) -> Message | None:
        return None

    async def services(self) -> list[Message] | None:
        return []


CONFIG_MAP, SECRET = "configmap", "secret"


async def fetch_items(objects: ObjectSource, what: str, namespace: str, name: str) -> dict[str, bytes] | None:
    """The keys of a ConfigMap (data as UTF-8, binaryData as is) or Secret; None if it does not exist."""
    if what == CONFIG_MAP:
        found = await objects.config_map(namespace, name)
        return None if found is None else {**{k: v.encode() for k, v in found.data.items()},
                                           **dict(found.binary_data)}
    found = await objects.secret(namespace, name)
    return None if found is None else dict(found.data)
