"""metrics.k8s.io/v1beta1, the API metrics-server serves and `kubectl top` reads, over our stored metrics.

Kubernetes serves this group from metrics-server through API aggregation;
here the agents store NodeMetrics and PodMetrics (metrics.coxswain.io/v1beta1,
field for field the same), so this module only renames: `nodes` and `pods`
of metrics.k8s.io are routes to those kinds (get and list, as metrics-server
offers; no watch), and answers carry metrics.k8s.io's apiVersion. Pure, no
I/O. Authorization is of the stored kinds: an RBAC rule must name
`metrics.coxswain.io` `nodemetrics`/`podmetrics` (the admin group may).
"""
from controlplane.api.kinds import KINDS
from controlplane.apiserver.rest import paths

GROUP, VERSION = "metrics.k8s.io", "v1beta1"
GROUP_VERSION = f"{GROUP}/{VERSION}"
PREFIX = f"/apis/{GROUP_VERSION}"
VERBS = ("get", "list")
# metrics.k8s.io's resource name -> the kind stored for it
SERVED = {"nodes": KINDS["NodeMetrics"], "pods": KINDS["PodMetrics"]}


def serves(path: str) -> bool:
    return path.startswith(PREFIX + "/")


def route(path: str, method: str, *, watch: str) -> paths.Route:
    """The stored kind's route for a metrics.k8s.io path; paths' RouteError (404) or MethodError (405)."""
    segments = path[len(PREFIX):].strip("/").split("/")
    at = 2 if segments[0] == "namespaces" and len(segments) >= 3 else 0
    kind = SERVED.get(segments[at])
    if kind is None or (at and not kind.namespaced):
        raise paths.RouteError(f"the server could not find the requested resource ({path})")
    segments[at] = kind.plural
    found = paths.parse(f"/apis/{kind.api_version}/" + "/".join(segments), method, watch=watch)
    if found.verb not in VERBS or found.subresource:
        raise paths.MethodError(f"{GROUP_VERSION} serves get and list only, not {found.verb} ({method} {path})")
    return found


def answer(body: dict) -> dict:
    """A stored kind's answer as metrics.k8s.io's: its apiVersion and its items'."""
    for obj in [body, *body.get("items", [])]:
        if obj.get("apiVersion") in {k.api_version for k in SERVED.values()}:
            obj["apiVersion"] = GROUP_VERSION
    if body.get("kind", "").endswith("List"):
        body["apiVersion"] = GROUP_VERSION
    return body


def resources() -> dict:
    """/apis/metrics.k8s.io/v1beta1's APIResourceList."""
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP_VERSION,
            "resources": [{"name": name, "singularName": "", "namespaced": kind.namespaced, "kind": kind.name,
                           "verbs": list(VERBS)} for name, kind in SERVED.items()]}


def aggregated_item() -> dict:
    """The group's entry in /apis' aggregated discovery (apidiscovery.k8s.io/v2)."""
    return {"metadata": {"name": GROUP}, "versions": [{"version": VERSION, "freshness": "Current", "resources": [
        {"resource": name, "responseKind": {"group": GROUP, "version": VERSION, "kind": kind.name},
         "scope": "Namespaced" if kind.namespaced else "Cluster", "singularResource": "", "verbs": list(VERBS)}
        for name, kind in SERVED.items()]}]}
