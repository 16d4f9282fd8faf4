"""A request's URL and method as (kind, namespace, name, subresource, verb): pure, no I/O.

The paths are Kubernetes':

    /api/v1/<plural>[/<name>[/<subresource>]]                          core, cluster-scoped or all namespaces
    /api/v1/namespaces/<ns>/<plural>[/<name>[/<subresource>]]          core, namespaced
    /apis/<group>/<version>/...                                        the same for a named group

`/api/v1/namespaces/<name>` is the Namespace itself. The verb is
Kubernetes' (get, list, watch, create, update, patch, delete, deletecollection):
a GET on a collection lists, or watches with `watch=1`; a DELETE on one is a
deletecollection.
"""
import dataclasses

from controlplane.api.kinds import KINDS, Kind


class RouteError(Exception):
    """No kind serves this path: 404, message names what is unknown."""


class MethodError(Exception):
    """The path exists but not for this HTTP method: 405."""


@dataclasses.dataclass(frozen=True)
class Route:
    kind: Kind
    namespace: str      # "" for cluster-scoped kinds and for all namespaces
    name: str           # "" for a collection
    subresource: str    # "" for the object itself
    verb: str


def _by_group_version() -> dict[str, dict[str, Kind]]:
    table: dict[str, dict[str, Kind]] = {}
    for kind in KINDS.values():
        table.setdefault(kind.api_version, {})[kind.plural] = kind
    return table


KINDS_BY_GROUP_VERSION = _by_group_version()

_TRUE = ("1", "true")
_COLLECTION_VERBS = {"GET": "list", "POST": "create", "DELETE": "deletecollection"}
_OBJECT_VERBS = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def group_version_of(segments: list[str]) -> tuple[str, list[str]] | None:
    """("v1" or "apps/v1", the rest of the path) for /api/v1/... or /apis/<g>/<v>/...; None otherwise."""
    if len(segments) >= 2 and segments[0] == "api":
        return segments[1], segments[2:]
    if len(segments) >= 3 and segments[0] == "apis":
        return f"{segments[1]}/{segments[2]}", segments[3:]
    return None


def parse(path: str, method: str, *, watch: str = "") -> Route:
    """The route of a resource request; RouteError (404) or MethodError (405) otherwise."""
    segments = [s for s in path.split("/") if s]
    found = group_version_of(segments)
    if found is None:
        raise RouteError(f"the server could not find the requested resource ({path})")
    group_version, rest = found
    kinds = KINDS_BY_GROUP_VERSION.get(group_version)
    if kinds is None or not rest:
        raise RouteError(f"the server could not find the requested resource ({path})")
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] in kinds and kinds[rest[2]].namespaced:
        namespace, rest = rest[1], rest[2:]
    kind = kinds.get(rest[0])
    if kind is None or len(rest) > 3:
        raise RouteError(f"the server could not find the requested resource ({path})")
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if name:
        verb = "create" if subresource and method == "POST" else _OBJECT_VERBS.get(method)
    else:
        verb = _COLLECTION_VERBS.get(method)
        if verb == "list" and watch.lower() in _TRUE:
            verb = "watch"
    if verb is None:
        raise MethodError(f"the server does not allow this method on the requested resource ({method} {path})")
    return Route(kind=kind, namespace=namespace, name=name, subresource=subresource, verb=verb)
