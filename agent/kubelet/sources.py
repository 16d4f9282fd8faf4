"""Where the kubelet hears from the API server about its pods, its own Node and the Services.

By default from informers of its own: the pods bound to this node, this
Node (both by field selector), and every Service (for containers'
environment variables, serviceenv.py). Anything with the informer's small surface
(`Source`) will do instead: hollow nodes (tests/support/hollow.py) hand each
of many kubelets in one process its view of one shared informer.
"""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from google.protobuf.message import Message

from controlplane.client import Client, Informer


class Source(Protocol):
    """The part of controlplane.client.Informer the kubelet uses."""

    def add_handler(self, *, on_add: Callable[[Message], None] | None = None,
                    on_update: Callable[[Message, Message], None] | None = None,
                    on_delete: Callable[[Message], None] | None = None) -> None: ...

    def get(self, name: str, namespace: str = "") -> Message | None: ...

    def list(self) -> list[Message]: ...

    def start(self) -> object: ...

    async def wait_synced(self, timeout: float | None = None) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Sources:
    pods: Source    # the pods bound to this node
    node: Source    # this node's Node
    services: Source | None = None   # every Service; None: no Service variables (hollow nodes)


def informers(client: Client, node_name: str) -> Sources:
    return Sources(pods=Informer(client.resource("Pod"), field_selector=f"spec.nodeName={node_name}"),
                   node=Informer(client.resource("Node"), field_selector=f"metadata.name={node_name}"),
                   services=Informer(client.resource("Service")))
