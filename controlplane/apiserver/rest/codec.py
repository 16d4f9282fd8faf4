"""JSON bodies <-> API messages, through the one conversion `cox apply` uses: pure, no I/O.

controlplane/api/convert.py maps Kubernetes' field names onto the messages
and names every unknown or ill-typed field; this module adds what HTTP needs
around it: Lists and watch events from the bytes the API server's handlers
already return, Scale objects, where the path's namespace and name go, and
metadata.managedFields (shown from the appliers' records, never read from a body).
"""
import json
from typing import Mapping

from google.protobuf.message import Message

from controlplane.api import convert, kinds, managedfields
from controlplane.api.errors import FieldError, InvalidError
from controlplane.api.kinds import Kind
from controlplane.apiserver.rest import k8sproto, names

SCALE_API_VERSION = "autoscaling/v1"
_KIND_OF_MESSAGE = {kind.message: kind for kind in kinds.KINDS.values()}


def loads(body: bytes) -> object:
    """A JSON body; BodyError (a 400, not an invalid object) if it is not JSON."""
    try:
        return json.loads(body or b"null")
    except ValueError as e:
        raise BodyError(f"the request body is not valid JSON: {e}") from None


class BodyError(ValueError):
    """The body could not be read at all: 400 BadRequest."""


def _our_descriptor(api_version: str, kind: str):
    try:
        return kinds.for_manifest(api_version, kind).message.DESCRIPTOR
    except KeyError:   # an older version of a served kind (olderversions.py): the fields it shares are ours
        found = kinds.KINDS.get(kind)
        return found.message.DESCRIPTOR if found else None


def read_body(body: bytes, content_type: str) -> object:
    """A create/update/delete body as JSON data, whether sent as JSON or as Kubernetes' protobuf."""
    if content_type != names.PROTOBUF:
        return loads(body)
    try:
        return k8sproto.decode(body, descriptor_for=_our_descriptor)
    except k8sproto.WireError as e:
        raise BodyError(f"the request body is not readable protobuf: {e}") from None


def dumps(data) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def to_json(obj: Message) -> dict:
    """The object's JSON; an object applied server-side also shows its appliers as metadata.managedFields."""
    data = convert.to_dict(obj)
    kind = _KIND_OF_MESSAGE.get(type(obj))
    meta = getattr(obj, "metadata", None)
    if kind is not None and meta is not None and any(k.startswith(names.APPLIED_BY_PREFIX) for k in meta.annotations):
        data["metadata"]["managedFields"] = managed_fields(kind, meta.annotations)
    return data


def appliers(annotations: Mapping[str, str], *, skip: str = "") -> dict[str, dict]:
    """Manager -> what it applied last, from the annotations the REST API keeps per manager."""
    found = {}
    for key, text in annotations.items():
        if key.startswith(names.APPLIED_BY_PREFIX) and key != skip:
            try:
                record = json.loads(text)
            except ValueError:
                continue
            if isinstance(record, dict):
                found[key[len(names.APPLIED_BY_PREFIX):]] = record
    return found


def managed_fields(kind: Kind, annotations: Mapping[str, str]) -> list[dict]:
    """Kubernetes' managedFields of the appliers: operation Apply, their leaves as FieldsV1."""
    return [{"manager": manager, "operation": "Apply", "apiVersion": kind.api_version, "fieldsType": "FieldsV1",
             "fieldsV1": managedfields.fields_v1(kind, record)}
            for manager, record in sorted(appliers(annotations).items())]


def parse_object(kind: Kind, data, *, namespace: str, name: str = "") -> Message:
    """The message for a request body at a path: the path's namespace fills an empty one.

    InvalidError names each bad field; a namespace or name that disagrees
    with the path is one of them, as Kubernetes refuses it.
    """
    if isinstance(data, dict) and isinstance(data.get("metadata"), dict) and "managedFields" in data["metadata"]:
        # Written by the server, not the client (a read-modify-write sends them back): not taken from a body.
        data = {**data, "metadata": {k: v for k, v in data["metadata"].items() if k != "managedFields"}}
    obj = convert.parse(kind, data)
    meta = obj.metadata
    problems = []
    if kind.namespaced:
        if meta.namespace and namespace and meta.namespace != namespace:
            problems.append(FieldError("metadata.namespace", f'does not match the namespace of the request, '
                                                             f'"{namespace}"'))
        meta.namespace = meta.namespace or namespace
    if name and meta.name != name:
        problems.append(FieldError("metadata.name", f'does not match the name of the request, "{name}"'))
    if problems:
        raise InvalidError(kind.name, meta.name, problems)
    return obj


def list_to_json(kind: Kind, data: bytes) -> dict:
    """<Kind>List bytes (the handlers' List answer) as JSON; `items` always present."""
    out = convert.to_dict(kind.list_message.FromString(data))
    out.setdefault("metadata", {})
    out.setdefault("items", [])
    return out


def list_items(kind: Kind, data: bytes) -> tuple[list[Message], dict]:
    """The objects of <Kind>List bytes and their list metadata as JSON."""
    listed = kind.list_message.FromString(data)
    return list(listed.items), convert.to_dict(listed.metadata)


def watch_event(kind: Kind, data: bytes) -> tuple[str, Message]:
    """(type, object) of <Kind>WatchEvent bytes."""
    event = kind.watch_event.FromString(data)
    return event.type, event.object


def scale_to_json(obj: Message) -> dict:
    """The autoscaling/v1 Scale of a Deployment or ReplicaSet."""
    meta = obj.metadata
    return {"kind": "Scale", "apiVersion": SCALE_API_VERSION,
            "metadata": {"name": meta.name, "namespace": meta.namespace, "uid": meta.uid,
                         "resourceVersion": meta.resource_version,
                         "creationTimestamp": convert.to_dict(meta).get("creationTimestamp")},
            "spec": {"replicas": obj.spec.replicas},
            "status": {"replicas": obj.status.replicas,
                       "selector": ",".join(f"{k}={v}" for k, v in sorted(obj.spec.selector.match_labels.items()))}}


def scale_replicas(data) -> tuple[int, str]:
    """(spec.replicas, metadata.resourceVersion) of a Scale body; InvalidError names a bad field."""
    spec = data.get("spec") if isinstance(data, dict) else None
    replicas = spec.get("replicas", 0) if isinstance(spec, dict) else None
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise InvalidError("Scale", "", [FieldError("spec.replicas", "must be a non-negative integer")])
    meta = data.get("metadata") or {}
    return replicas, str(meta.get("resourceVersion") or "") if isinstance(meta, dict) else ""
