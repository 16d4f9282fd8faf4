"""The machine-readable outputs of `cox get`: -o yaml, -o json, -o name.

Objects print as Kubernetes JSON (controlplane.api.convert), so what `get -o
yaml` prints is a manifest `apply` takes back. Several objects print as one
`kind: List`, as kubectl prints them.
"""
import json

from google.protobuf.message import Message

from controlplane.api import convert
from controlplane.api.kinds import Kind


def resource_type(kind: Kind) -> str:
    """kubectl's name for a kind in messages: pod, deployment.apps."""
    group = kind.api_version.rpartition("/")[0]
    return f"{kind.singular}.{group}" if group else kind.singular


def resource_name(kind: Kind, name: str) -> str:
    """kubectl's TYPE/NAME: pod/web, deployment.apps/web."""
    return f"{resource_type(kind)}/{name}"


def as_list(objects: list[Message]) -> dict:
    return {"apiVersion": "v1", "kind": "List", "items": [convert.to_dict(o) for o in objects],
            "metadata": {"resourceVersion": ""}}


def to_json(data: dict) -> str:
    return json.dumps(data, indent=4, ensure_ascii=False)


def render(output: str, kind: Kind, objects: list[Message], *, single: bool) -> str:
    """The text for -o yaml|json|name; `single` prints one object bare rather than as a List."""
    if output == "name":
        return "".join(resource_name(kind, o.metadata.name) + "\n" for o in objects)
    data = convert.to_dict(objects[0]) if single else as_list(objects)
    return convert.to_yaml(data) if output == "yaml" else to_json(data) + "\n"
