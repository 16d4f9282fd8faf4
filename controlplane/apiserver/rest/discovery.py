"""Discovery documents, built from the kind registry: pure, no I/O.

kubectl reads these to learn which kinds exist, what they are called, which
verbs they take and whether they are namespaced (`kubectl api-resources`).
They follow from controlplane/api/kinds.py; nothing here lists kinds.
"""
from controlplane import __version__
from controlplane.api.kinds import Kind
from controlplane.apiserver.rest import metricsapi, names, olderversions, proxyrules
from controlplane.apiserver.rest.paths import KINDS_BY_GROUP_VERSION


def version() -> dict:
    """/version: the Kubernetes API version the façade follows (kubectl warns on skew), and coxswain's."""
    major, minor = names.KUBERNETES_VERSION.split(".")
    return {"major": major, "minor": minor, "gitVersion": f"v{names.KUBERNETES_VERSION}.0+coxswain-{__version__}",
            "gitCommit": "", "gitTreeState": "", "buildDate": "", "goVersion": "",
            "compiler": "", "platform": "linux/amd64"}


def core_versions() -> dict:
    """/api."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]}


def _group_entry(group: str, versions: list[str]) -> dict:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def groups() -> dict:
    """/apis: every named group (the core group lives under /api)."""
    by_group: dict[str, list[str]] = {}
    for group_version in KINDS_BY_GROUP_VERSION:
        if "/" in group_version:
            group, version_ = group_version.split("/")
            by_group.setdefault(group, []).append(version_)
    for group_version in olderversions.OLDER:   # after the served version: that one is preferred
        group, version_ = group_version.split("/")
        by_group[group].append(version_)
    by_group[metricsapi.GROUP] = [metricsapi.VERSION]
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_entry(g, v) for g, v in sorted(by_group.items())]}


def group(name: str) -> dict | None:
    """/apis/<group>, or None if no kind is in it."""
    found = next((g for g in groups()["groups"] if g["name"] == name), None)
    return None if found is None else {"kind": "APIGroup", "apiVersion": "v1", **found}


def _resources(kind: Kind) -> list[dict]:
    main = {"name": kind.plural, "singularName": kind.singular, "namespaced": kind.namespaced,
            "kind": kind.name, "verbs": list(names.KIND_VERBS)}
    if kind.short_names:
        main["shortNames"] = list(kind.short_names)
    if kind.name in names.CATEGORY_ALL:
        main["categories"] = ["all"]
    found = [main]
    if kind.has_status:
        found.append({"name": f"{kind.plural}/{names.STATUS}", "singularName": "",
                      "namespaced": kind.namespaced, "kind": kind.name, "verbs": list(names.STATUS_VERBS)})
    subresource_kinds = {names.SCALE: ("Scale", "autoscaling", "v1", list(names.STATUS_VERBS)),
                         names.BINDING: ("Binding", "", "", ["create"]),
                         names.LOG: ("Pod", "", "", ["get"]),
                         names.EXEC: ("PodExecOptions", "", "", ["create", "get"]),
                         names.EVICTION: ("Eviction", "policy", "v1", ["create"]),
                         names.ATTACH: ("PodAttachOptions", "", "", ["create", "get"]),
                         names.PORTFORWARD: ("PodPortForwardOptions", "", "", ["create", "get"]),
                         names.PROXYRULES: (proxyrules.KIND, "", "", ["get"]),
                         names.TOKEN: ("TokenRequest", "authentication.k8s.io", "v1", ["create"])}
    for sub in names.SUBRESOURCES.get(kind.name, ()):
        sub_kind, sub_group, sub_version, verbs = subresource_kinds[sub]
        entry = {"name": f"{kind.plural}/{sub}", "singularName": "", "namespaced": kind.namespaced,
                 "kind": sub_kind, "verbs": verbs}
        if sub_group:
            entry |= {"group": sub_group, "version": sub_version}
        found.append(entry)
    return found


def resources(group_version: str) -> dict | None:
    """/api/v1 or /apis/<group>/<version>: the APIResourceList, or None if unknown."""
    if group_version == metricsapi.GROUP_VERSION:
        return metricsapi.resources()
    kinds = KINDS_BY_GROUP_VERSION.get(group_version) or olderversions.OLDER.get(group_version)
    if kinds is None:
        return None
    listed = [entry for kind in sorted(kinds.values(), key=lambda k: k.plural) for entry in _resources(kind)]
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": listed}


def group_version_of(kind: Kind) -> tuple[str, str]:
    """(group, version): ("", "v1") for the core group."""
    group_, _, version_ = kind.api_version.rpartition("/")
    return group_, version_



# ------------------------------------------------------------------ aggregated discovery

AGGREGATED_MARKER = "as=APIGroupDiscoveryList"
AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> bool:
    """Does the Accept header take apidiscovery.k8s.io/v2 (kubectl asks for it first)?"""
    return any(AGGREGATED_MARKER in part and "v=v2;" in part.replace(" ", "") + ";"
               and "v=v2beta1" not in part for part in accept.split(","))


def _aggregated_resource(kind: Kind, entries: list[dict], version_: str) -> dict:
    main, subs = entries[0], entries[1:]
    group = group_version_of(kind)[0]
    out = {"resource": kind.plural, "responseKind": {"group": group, "version": version_, "kind": kind.name},
           "scope": "Namespaced" if kind.namespaced else "Cluster", "singularResource": kind.singular,
           "verbs": main["verbs"]}
    for key in ("shortNames", "categories"):
        if key in main:
            out[key] = main[key]
    if subs:
        out["subresources"] = [
            {"subresource": sub["name"].split("/", 1)[1], "verbs": sub["verbs"],
             "responseKind": {"group": sub.get("group", group), "version": sub.get("version", version_),
                              "kind": sub["kind"]}}
            for sub in subs]
    return out


def aggregated(*, core: bool) -> dict:
    """/api (core) or /apis as one APIGroupDiscoveryList: every resource of every version in one answer."""
    by_group: dict[str, list[str]] = {}
    for group_version in [*KINDS_BY_GROUP_VERSION, *olderversions.OLDER]:
        group_, _, version_ = group_version.rpartition("/")
        if (group_ == "") == core:
            by_group.setdefault(group_, []).append(version_)
    items = []
    for group_, versions in sorted(by_group.items()):
        listed = []
        for version_ in versions:
            gv = f"{group_}/{version_}" if group_ else version_
            kinds = sorted((KINDS_BY_GROUP_VERSION.get(gv) or olderversions.OLDER[gv]).values(),
                           key=lambda k: k.plural)
            listed.append({"version": version_, "freshness": "Current",
                           "resources": [_aggregated_resource(k, _resources(k), version_) for k in kinds]})
        items.append({"metadata": {"name": group_} if group_ else {}, "versions": listed})
    if not core:
        items.append(metricsapi.aggregated_item())
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
            "items": items}
