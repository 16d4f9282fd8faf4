"""`cox create quota NAME --hard=pods=2,requests.cpu=1 [--scopes=BestEffort]`, as kubectl's.

The builder is pure (arguments in, the object kubectl would write); the
server's validation names a resource or scope it does not take.
"""
import argparse

from controlplane.api.kinds import KINDS
from controlplane.cli import common
from controlplane.cli.printing.formats import resource_name


def resource_quota(name: str, namespace: str, *, hard: str, scopes: str = ""):
    """The ResourceQuota `kubectl create quota` makes from its --hard and --scopes."""
    limits = {}
    for entry in (e.strip() for e in hard.split(",") if e.strip()):
        resource, sep, amount = entry.partition("=")
        if not sep or not resource or not amount:
            raise common.CommandError(f'--hard: "{entry}" is not RESOURCE=AMOUNT')
        limits[resource] = amount
    if not limits:
        raise common.CommandError("--hard: required, e.g. --hard=pods=2,requests.cpu=1")
    return KINDS["ResourceQuota"].new(metadata={"name": name, "namespace": namespace},
                                      spec={"hard": limits, "scopes": [s for s in scopes.split(",") if s]})


def register_creators(sub) -> None:
    """Add `quota` to `cox create`'s subcommands."""
    p = sub.add_parser("quota", aliases=["resourcequota"], help="create a resource quota")
    p.add_argument("name")
    p.add_argument("--hard", default="", help="RESOURCE=AMOUNT pairs, comma separated (pods=2,requests.cpu=1)")
    p.add_argument("--scopes", default="", help="scopes, comma separated (BestEffort, NotTerminating, ...)")
    common.add_namespace_options(p, all_namespaces=False)
    common.add_config_option(p, default=argparse.SUPPRESS)
    p.set_defaults(func=create)


async def create(args) -> int:
    obj = resource_quota(args.name, common.namespace(args), hard=args.hard, scopes=args.scopes)
    async with common.connect(args) as client:
        created = await client.resource("ResourceQuota").create(obj)
    print(f"{resource_name(KINDS['ResourceQuota'], created.metadata.name)} created")
    return 0
