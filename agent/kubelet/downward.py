"""The downward API: a pod's own fields, for env vars and downwardAPI volume files."""
import math

from google.protobuf.message import Message

from controlplane.api import quantity


class FieldNotSupported(ValueError):
    pass


def field_value(pod: Message, path: str, *, pod_ip: str = "", host_ip: str = "") -> str:
    """metadata.name, metadata.labels['app'], spec.nodeName, status.podIP, ... as a string."""
    meta = pod.metadata
    for prefix, mapping in (("metadata.labels", meta.labels), ("metadata.annotations", meta.annotations)):
        if path == prefix:
            return "\n".join(f'{k}="{v}"' for k, v in sorted(mapping.items()))
        if path.startswith(prefix + "['") and path.endswith("']"):
            return mapping.get(path[len(prefix) + 2:-2], "")
    simple = {
        "metadata.name": meta.name, "metadata.namespace": meta.namespace, "metadata.uid": meta.uid,
        "spec.nodeName": pod.spec.node_name, "spec.serviceAccountName": pod.spec.service_account_name,
        "status.podIP": pod_ip, "status.hostIP": host_ip,
    }
    if path not in simple:
        raise FieldNotSupported(f'fieldRef "{path}" is not supported')
    return simple[path]


def resource_value(pod: Message, container_name: str, resource: str, divisor: str = "",
                   *, node_allocatable: dict[str, str] | None = None) -> str:
    """limits.cpu, requests.memory, ... of a container, in units of `divisor`, rounded up.

    An unset limit reads as the node's allocatable amount, as in Kubernetes.
    """
    container = next((c for c in (*pod.spec.containers, *pod.spec.init_containers)
                      if c.name == container_name), None)
    if container is None:
        raise FieldNotSupported(f'resourceFieldRef names no container "{container_name}"')
    which, _, name = resource.partition(".")
    if which not in ("limits", "requests") or name not in ("cpu", "memory", "ephemeral-storage"):
        raise FieldNotSupported(f'resourceFieldRef "{resource}" is not supported')
    amounts = container.resources.limits if which == "limits" else container.resources.requests
    text = amounts.get(name) or (node_allocatable or {}).get(name) or "0"
    unit = quantity.parse(divisor) if divisor else 1
    return str(max(1, math.ceil(quantity.parse(text) / unit)) if quantity.parse(text) else 0)
