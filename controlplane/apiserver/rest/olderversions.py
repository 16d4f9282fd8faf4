"""Older versions of a kind served over REST by conversion: the autoscaling/v1 HorizontalPodAutoscaler.

kubectl up to 1.32 creates `kubectl autoscale`'s HPA as autoscaling/v1, and
manifests written for v1 are applied at /apis/autoscaling/v1/...; the API
serves and stores autoscaling/v2. A request at the older version's path is
the served version's route: its body upgraded (api/versions.py, as `cox
apply` upgrades a v1 manifest), its answers (an object, a list, watch
events) downgraded, leaving out what v1 cannot say (metrics other than cpu
Utilization, behavior, conditions). A merge or strategic merge patch is
upgraded as a partial manifest; a JSON patch or a server-side apply is
refused there (415: send it to autoscaling/v2). Pure, no I/O.
"""
from controlplane.api import versions
from controlplane.api.kinds import KINDS, Kind
from controlplane.apiserver.rest import codec, names, paths

# group version -> {plural: the kind served at its own version}
OLDER: dict[str, dict[str, Kind]] = {"autoscaling/v1": {"horizontalpodautoscalers": KINDS["HorizontalPodAutoscaler"]}}
PATCH_TYPES = (names.MERGE_PATCH, names.STRATEGIC_MERGE_PATCH)


class UnsupportedPatch(ValueError):
    """A patch type the older version does not take: 415."""


def version_of(path: str) -> str | None:
    """The older group version a path is under, if any."""
    return next((gv for gv in OLDER if path.startswith(f"/apis/{gv}/")), None)


def route(path: str, method: str, *, watch: str) -> paths.Route:
    """The served version's route for an older version's path; paths' RouteError or MethodError otherwise."""
    older = version_of(path)
    rest = path[len(f"/apis/{older}"):]
    segments = rest.strip("/").split("/")
    kind = OLDER[older].get(segments[2 if segments[0] == "namespaces" and len(segments) >= 3 else 0])
    if kind is None:
        raise paths.RouteError(f"the server could not find the requested resource ({path})")
    return paths.parse(f"/apis/{kind.api_version}{rest}", method, watch=watch)


def request_body(route_: paths.Route, older: str, body: bytes, content_type: str) -> tuple[bytes, str]:
    """(body, content type) in the served version. codec.BodyError (400) if unreadable, UnsupportedPatch."""
    if not body or route_.verb not in ("create", "update", "patch"):
        return body, content_type
    if route_.verb == "patch":
        if content_type not in PATCH_TYPES:
            raise UnsupportedPatch(f'{older} takes {" and ".join(PATCH_TYPES)} patches; send "{content_type}" to '
                                   f'{route_.kind.api_version}')
        return codec.dumps(_upgraded_part(older, route_.kind, codec.loads(body))), content_type
    return codec.dumps(versions.upgrade(codec.read_body(body, content_type))), names.JSON


def _upgraded_part(older: str, kind: Kind, patch) -> object:
    """A patch upgraded as the partial manifest it is (its own apiVersion and kind, if any, kept)."""
    if not isinstance(patch, dict):
        return patch
    upgraded = versions.upgrade({**patch, "apiVersion": older, "kind": kind.name})
    return {k: v for k, v in upgraded.items() if k in patch or k not in ("apiVersion", "kind")} | \
        ({"apiVersion": kind.api_version} if "apiVersion" in patch else {})


def answer(older: str, body: dict) -> dict:
    """An answer (an object or a list of them; a Status or Table as it is) in the older version."""
    if isinstance(body.get("items"), list) and body.get("kind", "").endswith("List"):
        return {**body, "apiVersion": older, "items": [versions.downgrade(item, older) for item in body["items"]]}
    return versions.downgrade(body, older)


async def events(older: str, items):
    """A watch's events with their objects in the older version."""
    try:
        async for event in items:
            yield {**event, "object": versions.downgrade(event["object"], older)} if isinstance(event, dict) \
                else event
    finally:
        await items.aclose()
