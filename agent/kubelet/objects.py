"""Where the kubelet reads the ConfigMaps and Secrets its pods refer to.

Pods name them (env, envFrom, volumes); the kubelet fetches them when it
starts a container or projects a volume. With an API server they come from
it; a node running only static pods has none, and a pod that needs one
fails to start with a message that says so.
"""
from typing import Protocol

from google.protobuf.message import Message

from controlplane.client import Client
from controlplane.client.errors import NotFound


class ObjectSource(Protocol):
    async def config_map(self, namespace: str, name: str) -> Message | None: ...

    async def secret(self, namespace: str, name: str) -> Message | None: ...


class ApiObjects:
    """ConfigMaps and Secrets read from the API server at the moment they are needed."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def config_map(self, namespace: str, name: str) -> Message | None:
        return await self._get("ConfigMap", namespace, name)

    async def secret(self, namespace: str, name: str) -> Message | None:
        return await self._get("Secret", namespace, name)

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


CONFIG_MAP, SECRET = "configmap", "secret"


async def fetch_items(objects: ObjectSource, what: str, namespace: str, name: str) -> dict[str, bytes] | None:
    """The keys of a ConfigMap (data as UTF-8, binaryData as is) or Secret; None if it does not exist."""
    if what == CONFIG_MAP:
        found = await objects.config_map(namespace, name)
        return None if found is None else {**{k: v.encode() for k, v in found.data.items()},
                                           **dict(found.binary_data)}
    found = await objects.secret(namespace, name)
    return None if found is None else dict(found.data)
