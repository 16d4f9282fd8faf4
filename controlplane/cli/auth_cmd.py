"""`cox auth can-i VERB RESOURCE[/SUBRESOURCE] [NAME]`: may I (or --as USER) do this? As kubectl's.

The server answers (Cluster/AccessReview) with the same authorizer that
judges real requests. Prints yes or no; exits 0 for yes and 1 for no.
"""
from controlplane.api.v1 import cluster_pb2
from controlplane.cli import common


def register(sub) -> None:
    p = sub.add_parser("auth", help="inspect authorization")
    verbs = p.add_subparsers(dest="auth_command", metavar="COMMAND", required=True)
    can_i = verbs.add_parser("can-i", help="may a user do VERB on RESOURCE? (yes/no)")
    can_i.add_argument("verb", help="get, list, watch, create, update, patch, delete")
    can_i.add_argument("resource", help="pods, deployments.apps, pods/log, ...")
    can_i.add_argument("name", nargs="?", default="", help="one object by name")
    can_i.add_argument("--as", dest="as_user", default="", metavar="USER", help="ask for another user (admins)")
    can_i.add_argument("--as-group", action="append", default=[], metavar="GROUP",
                       help="a group of --as (repeatable)")
    can_i.add_argument("--subresource", default="", help="status, log, exec, binding, token")
    common.add_namespace_options(can_i, all_namespaces=False)
    common.add_config_option(can_i)
    can_i.set_defaults(func=run_can_i)


async def run_can_i(args) -> int:
    if args.as_group and not args.as_user:
        raise common.CommandError("--as-group needs --as")
    request = cluster_pb2.AccessReviewRequest(verb=args.verb, resource=args.resource, subresource=args.subresource,
                                              namespace=common.namespace(args), name=args.name,
                                              user=args.as_user, groups=args.as_group)
    async with common.connect(args) as client:
        answer = await client.access_review(request)
    print("yes" if answer.allowed else "no")
    return 0 if answer.allowed else 1
