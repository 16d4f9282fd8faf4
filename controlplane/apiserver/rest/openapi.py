"""OpenAPI v3 documents generated from the API messages: pure, no I/O.

Two readers. `kubectl apply` (and create, replace) validate strictly by
default: kubectl reads each kind's PATCH operation to see whether the server
takes `fieldValidation`, and otherwise downloads a schema to validate
itself; the API server refuses every unknown field by name (convert.py), so
every kind says yes. `kubectl explain` and kubectl's strategic merge patches
read the schemas: one per message, made from its descriptor (JSON names,
types, IntOrString, times, maps), with the merge keys of api/patch.py, so the
patches kubectl computes and the ones the server applies agree.
"""
import functools
import hashlib
import json

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from controlplane.api.kinds import Kind
from controlplane.api.patch import MERGE_KEYS, MERGED_VALUE_LISTS
from controlplane.apiserver.rest import olderversions
from controlplane.apiserver.rest.paths import KINDS_BY_GROUP_VERSION

ROOT = "/openapi/v3"
_GVK_EXTENSION = "x-kubernetes-group-version-kind"
_QUERY_PARAMETERS = ("fieldValidation", "fieldManager", "dryRun")


def _prefix(group_version: str) -> str:
    return f"api/{group_version}" if "/" not in group_version else f"apis/{group_version}"


def _group_versions() -> list[str]:
    return [*KINDS_BY_GROUP_VERSION, *olderversions.OLDER]


@functools.cache
def _document(group_version: str) -> dict:
    """An older version served by conversion has its operations only: the messages' schemas are the served
    version's, so none is claimed for it (kubectl then patches from its own types)."""
    paths, schemas = {}, {}
    older = olderversions.OLDER.get(group_version)
    for kind in (older or KINDS_BY_GROUP_VERSION[group_version]).values():
        paths[_object_path(group_version, kind)] = {"patch": _patch_operation(kind, group_version)}
        if older:
            continue
        _add_schemas(kind.message.DESCRIPTOR, schemas)
        group, _, version = kind.api_version.rpartition("/")
        schemas[_name(kind.message.DESCRIPTOR)][_GVK_EXTENSION] = [
            {"group": group, "version": version, "kind": kind.name}]
    return {"openapi": "3.0.0", "info": {"title": "coxswain", "version": group_version},
            "paths": paths, "components": {"schemas": schemas}}


_F = FieldDescriptor
_SCALARS = {
    _F.TYPE_STRING: {"type": "string"}, _F.TYPE_BOOL: {"type": "boolean"},
    _F.TYPE_INT32: {"type": "integer", "format": "int32"}, _F.TYPE_UINT32: {"type": "integer", "format": "int32"},
    _F.TYPE_INT64: {"type": "integer", "format": "int64"}, _F.TYPE_UINT64: {"type": "integer", "format": "int64"},
    _F.TYPE_BYTES: {"type": "string", "format": "byte"}, _F.TYPE_DOUBLE: {"type": "number", "format": "double"},
}
_SPECIAL = {"google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
            "google.protobuf.Value": {"x-kubernetes-int-or-string": True}}


def _name(descriptor: Descriptor) -> str:
    return descriptor.full_name


def _add_schemas(descriptor: Descriptor, schemas: dict) -> None:
    """The schema of `descriptor` and of every message it reaches, by full name."""
    if _name(descriptor) in schemas:
        return
    properties = {}
    schemas[_name(descriptor)] = {"type": "object", "properties": properties}
    for field in descriptor.fields:
        properties[field.json_name] = _field_schema(descriptor, field, schemas)


def _field_schema(owner: Descriptor, field: FieldDescriptor, schemas: dict) -> dict:
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        return {"type": "object", "additionalProperties": _value_schema(message.fields_by_name["value"], schemas)}
    single = _value_schema(field, schemas)
    if not field.is_repeated:
        return single
    schema = {"type": "array", "items": single}
    key = MERGE_KEYS.get((owner.name, field.json_name))
    if key:
        schema |= {"x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": key,
                   "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [key]}
    elif (owner.name, field.json_name) in MERGED_VALUE_LISTS:
        schema |= {"x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "set"}
    else:
        schema["x-kubernetes-list-type"] = "atomic"
    return schema


def _value_schema(field: FieldDescriptor, schemas: dict) -> dict:
    message = field.message_type
    if message is None:
        return dict(_SCALARS[field.type])
    if message.full_name in _SPECIAL:
        return dict(_SPECIAL[message.full_name])
    _add_schemas(message, schemas)
    return {"allOf": [{"$ref": f"#/components/schemas/{_name(message)}"}]}


def _object_path(group_version: str, kind: Kind) -> str:
    scope = "namespaces/{namespace}/" if kind.namespaced else ""
    return f"/{_prefix(group_version)}/{scope}{kind.plural}/{{name}}"


def _patch_operation(kind: Kind, group_version: str) -> dict:
    group, _, version = group_version.rpartition("/")
    return {"operationId": f"patch{kind.name}", "responses": {"200": {"description": "OK"}},
            "parameters": [{"name": name, "in": "query", "schema": {"type": "string"}} for name in _QUERY_PARAMETERS],
            _GVK_EXTENSION: {"group": group, "version": version, "kind": kind.name}}


def _hash(document: dict) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16].upper()


def root() -> dict:
    """/openapi/v3: where each group version's document is."""
    return {"paths": {_prefix(gv): {"serverRelativeURL": f"{ROOT}/{_prefix(gv)}?hash={_hash(_document(gv))}"}
                      for gv in _group_versions()}}


def document(path: str) -> dict | None:
    """/openapi/v3/api/v1 or /openapi/v3/apis/<group>/<version>; None if no such group version."""
    rest = path[len(ROOT):].strip("/")
    for group_version in _group_versions():
        if rest == _prefix(group_version):
            return _document(group_version)
    return None
