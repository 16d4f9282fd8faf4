"""Just enough OpenAPI v3 for kubectl to hand validation to the server: pure, no I/O.

`kubectl apply` (and create, replace) validate strictly by default: kubectl
reads /openapi/v3 to see whether the server takes `fieldValidation` on each
kind's PATCH, and otherwise downloads the whole schema to validate itself.
The API server already refuses every unknown field by name (convert.py), so
this document says yes for every kind and carries no schemas; kubectl
then builds its patches from its own compiled-in types, which are
Kubernetes' own for every kind served here.
"""
import hashlib
import json

from controlplane.api.kinds import Kind
from controlplane.apiserver.rest.paths import KINDS_BY_GROUP_VERSION

ROOT = "/openapi/v3"
_GVK_EXTENSION = "x-kubernetes-group-version-kind"
_QUERY_PARAMETERS = ("fieldValidation", "fieldManager", "dryRun")


def _prefix(group_version: str) -> str:
    return f"api/{group_version}" if "/" not in group_version else f"apis/{group_version}"


def _document(group_version: str) -> dict:
    paths = {}
    for kind in KINDS_BY_GROUP_VERSION[group_version].values():
        paths[_object_path(group_version, kind)] = {"patch": _patch_operation(kind)}
    return {"openapi": "3.0.0", "info": {"title": "coxswain", "version": group_version},
            "paths": paths, "components": {"schemas": {}}}


def _object_path(group_version: str, kind: Kind) -> str:
    scope = "namespaces/{namespace}/" if kind.namespaced else ""
    return f"/{_prefix(group_version)}/{scope}{kind.plural}/{{name}}"


def _patch_operation(kind: Kind) -> dict:
    group, _, version = kind.api_version.rpartition("/")
    return {"operationId": f"patch{kind.name}", "responses": {"200": {"description": "OK"}},
            "parameters": [{"name": name, "in": "query", "schema": {"type": "string"}} for name in _QUERY_PARAMETERS],
            _GVK_EXTENSION: {"group": group, "version": version, "kind": kind.name}}


def _hash(document: dict) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16].upper()


def root() -> dict:
    """/openapi/v3: where each group version's document is."""
    return {"paths": {_prefix(gv): {"serverRelativeURL": f"{ROOT}/{_prefix(gv)}?hash={_hash(_document(gv))}"}
                      for gv in KINDS_BY_GROUP_VERSION}}


def document(path: str) -> dict | None:
    """/openapi/v3/api/v1 or /openapi/v3/apis/<group>/<version>; None if no such group version."""
    rest = path[len(ROOT):].strip("/")
    for group_version in KINDS_BY_GROUP_VERSION:
        if rest == _prefix(group_version):
            return _document(group_version)
    return None
