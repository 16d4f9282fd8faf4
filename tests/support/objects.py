"""Small builders for API objects used across tests."""
import subprocess

import yaml

from controlplane.api import convert
from controlplane.api.kinds import KINDS
from controlplane.client import errors


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


async def relabel_node(node_api, name: str, **labels):
    """Set (or, given None, remove) labels on a node, retrying while its kubelet writes the node too."""
    for _ in range(20):
        node = await node_api.get(name)
        for key, value in labels.items():
            if value is None:
                node.metadata.labels.pop(key, None)
            else:
                node.metadata.labels[key] = value
        try:
            return await node_api.update(node)
        except errors.Conflict:
            continue
    raise AssertionError(f"node {name} kept changing")


def kubectl_manifest(*args: str):
    """What `kubectl create ARGS --dry-run=client -o yaml` writes, as an object (kubectl needs no server for it)."""
    out = subprocess.run(["kubectl", "create", *args, "--dry-run=client", "-o", "yaml"], check=True,
                         capture_output=True, text=True).stdout
    return convert.from_manifest(yaml.safe_load(out))
