"""Small builders for API objects used across tests."""
import subprocess
from collections.abc import Callable

import yaml
from google.protobuf.message import Message

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


async def modify(api, name: str, change: Callable[[Message], object], *, namespace: str = ""):
    """Get `name`, apply `change` to it and update it; again from a fresh get on Conflict, as client-go's
    RetryOnConflict does: a controller's status writes (or a kubelet's) may land between the get and the
    update, and a test making a change by hand must not fail for that."""
    for _ in range(20):
        obj = await api.get(name, namespace=namespace)
        change(obj)
        try:
            return await api.update(obj)
        except errors.Conflict:
            continue
    raise AssertionError(f"{name} kept changing under the test's update")


async def relabel_node(node_api, name: str, **labels):
    """Set (or, given None, remove) labels on a node, retrying while its kubelet writes the node too."""
    def relabel(node):
        for key, value in labels.items():
            if value is None:
                node.metadata.labels.pop(key, None)
            else:
                node.metadata.labels[key] = value
    return await modify(node_api, name, relabel)


def kubectl_manifest(*args: str):
    """What `kubectl create ARGS --dry-run=client -o yaml` writes, as an object (kubectl needs no server for it)."""
    out = subprocess.run(["kubectl", "create", *args, "--dry-run=client", "-o", "yaml"], check=True,
                         capture_output=True, text=True).stdout
    return convert.from_manifest(yaml.safe_load(out))
