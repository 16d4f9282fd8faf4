"""`cox create role|clusterrole|rolebinding|clusterrolebinding|serviceaccount|token`, as kubectl's.

Builders (pure: arguments in, the object kubectl would write out) and one
create call each. Rules group resources by API group, as `kubectl create
role` does: `--resource=pods,deployments.apps` gives one rule for "" and one
for "apps".
"""
import argparse
import re

from controlplane.api import kinds
from controlplane.api.kinds import KINDS
from controlplane.api.v1 import cluster_pb2
from controlplane.cli import common
from controlplane.cli.printing.formats import resource_name

RBAC_GROUP = "rbac.authorization.k8s.io"
_DURATION = re.compile(r"(\d+)([smh])")


def _split(values: list[str]) -> list[str]:
    return [item for value in values for item in value.split(",") if item]


def _group_of(resource: str) -> tuple[str, str]:
    """(API group, resource as rules name it) of `pods`, `deployments.apps`, `pods/log`, `*`."""
    if resource == "*":
        return "*", "*"
    try:
        kind, subresource = kinds.resolve_resource(resource)
    except ValueError as e:
        raise common.CommandError(f"--resource: {e}") from None
    return kind.group, f"{kind.plural}/{subresource}" if subresource else kind.plural


def rules(verbs: list[str], resources: list[str], names: list[str]) -> list[dict]:
    if not verbs:
        raise common.CommandError("--verb: required")
    if not resources:
        raise common.CommandError("--resource: required")
    by_group: dict[str, list[str]] = {}
    for resource in resources:
        group, name = _group_of(resource)
        by_group.setdefault(group, []).append(name)
    return [{"api_groups": [group], "resources": found, "verbs": verbs, "resource_names": names}
            for group, found in by_group.items()]


def subjects(args) -> list[dict]:
    found = [{"kind": "User", "api_group": RBAC_GROUP, "name": u} for u in _split(args.user)]
    found += [{"kind": "Group", "api_group": RBAC_GROUP, "name": g} for g in _split(args.group)]
    for account in _split(args.serviceaccount):
        namespace, sep, name = account.partition(":")
        if not sep or not namespace or not name:
            raise common.CommandError(f'--serviceaccount: "{account}" is not NAMESPACE:NAME')
        found.append({"kind": "ServiceAccount", "namespace": namespace, "name": name})
    return found


def duration_seconds(text: str) -> int:
    """kubectl's durations: 600s, 10m, 1h, or a plain number of seconds."""
    if text.isdigit():
        return int(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise common.CommandError(f'--duration: "{text}" is not a duration like 10m or 1h')
    return sum(int(n) * {"s": 1, "m": 60, "h": 3600}[u] for n, u in parts)


def register_creators(sub) -> None:
    """Add the subcommands to `cox create`'s."""
    for kind_name, aliases in (("role", []), ("clusterrole", [])):
        p = sub.add_parser(kind_name, aliases=aliases, help=f"create a {kind_name} with rules")
        p.add_argument("name")
        p.add_argument("--verb", action="append", default=[], help="verbs (repeatable, comma separated)")
        p.add_argument("--resource", action="append", default=[],
                       help="resources: pods, deployments.apps, pods/log (repeatable, comma separated)")
        p.add_argument("--resource-name", action="append", default=[], help="only these objects (repeatable)")
        _common(p, namespaced=kind_name == "role")
        p.set_defaults(func=create_role, kind="Role" if kind_name == "role" else "ClusterRole")
    for kind_name in ("rolebinding", "clusterrolebinding"):
        p = sub.add_parser(kind_name, help=f"create a {kind_name} for users, groups or service accounts")
        p.add_argument("name")
        if kind_name == "rolebinding":
            p.add_argument("--role", default="", help="the Role to bind")
        p.add_argument("--clusterrole", default="", help="the ClusterRole to bind")
        p.add_argument("--user", action="append", default=[])
        p.add_argument("--group", action="append", default=[])
        p.add_argument("--serviceaccount", action="append", default=[], metavar="NAMESPACE:NAME")
        _common(p, namespaced=kind_name == "rolebinding")
        p.set_defaults(func=create_binding, kind="RoleBinding" if kind_name == "rolebinding" else "ClusterRoleBinding")
    p = sub.add_parser("serviceaccount", aliases=["sa"], help="create a service account")
    p.add_argument("name")
    _common(p, namespaced=True)
    p.set_defaults(func=create_service_account)
    p = sub.add_parser("token", help="print a bound, expiring token of a service account")
    p.add_argument("name", help="the service account")
    p.add_argument("--duration", default="1h", help="how long it lasts (10m to 48h; default 1h)")
    _common(p, namespaced=True)
    p.set_defaults(func=create_token)


def _common(p, *, namespaced: bool) -> None:
    if namespaced:
        common.add_namespace_options(p, all_namespaces=False)
    common.add_config_option(p, default=argparse.SUPPRESS)


async def _create(args, obj) -> int:
    kind = KINDS[obj.DESCRIPTOR.name]
    async with common.connect(args) as client:
        created = await client.resource(kind).create(obj)
    print(f"{resource_name(kind, created.metadata.name)} created")
    return 0


def _metadata(args, kind: str) -> dict:
    return {"name": args.name, **({"namespace": common.namespace(args)} if KINDS[kind].namespaced else {})}


async def create_role(args) -> int:
    obj = KINDS[args.kind].new(metadata=_metadata(args, args.kind),
                               rules=rules(_split(args.verb), _split(args.resource), _split(args.resource_name)))
    return await _create(args, obj)


async def create_binding(args) -> int:
    role = getattr(args, "role", "")
    if bool(role) == bool(args.clusterrole):
        raise common.CommandError("exactly one of --role or --clusterrole is required"
                                  if args.kind == "RoleBinding" else "--clusterrole: required")
    ref = {"api_group": RBAC_GROUP, "kind": "Role" if role else "ClusterRole", "name": role or args.clusterrole}
    obj = KINDS[args.kind].new(metadata=_metadata(args, args.kind), role_ref=ref, subjects=subjects(args))
    return await _create(args, obj)


async def create_service_account(args) -> int:
    return await _create(args, KINDS["ServiceAccount"].new(metadata=_metadata(args, "ServiceAccount")))


async def create_token(args) -> int:
    request = cluster_pb2.TokenRequest(namespace=common.namespace(args), service_account=args.name,
                                       expiration_seconds=duration_seconds(args.duration))
    async with common.connect(args) as client:
        answer = await client.create_token(request)
    print(answer.token)
    return 0
