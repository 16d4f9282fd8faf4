"""Small builders for API objects used across tests."""
from controlplane.api.kinds import KINDS


def pod(name: str, *, namespace: str = "default", image: str = "busybox", labels: dict | None = None,
        node_name: str = "", command: list[str] | None = None, **spec):
    return KINDS["Pod"].new(
        metadata={"name": name, "namespace": namespace, "labels": labels or {}},
        spec={"node_name": node_name, "containers": [{"name": "main", "image": image,
                                                      "command": command or ["sleep", "3600"]}], **spec})


def namespace(name: str):
    return KINDS["Namespace"].new(metadata={"name": name})


def configmap(name: str, *, namespace: str = "default", data: dict | None = None, **meta):
    return KINDS["ConfigMap"].new(metadata={"name": name, "namespace": namespace, **meta}, data=data or {})
