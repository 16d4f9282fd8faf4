"""DefaultBinder: bind through the API server's pods/binding call (sets spec.nodeName once)."""
from controlplane.scheduler.framework import BindPlugin


class DefaultBinder(BindPlugin):
    name = "DefaultBinder"

    def __init__(self, handle):
        self._handle = handle

    async def bind(self, state, pod, node_name):
        await self._handle.client.resource("Pod").bind(pod.name, node_name, namespace=pod.namespace)
        return None
