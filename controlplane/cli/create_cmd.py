"""`cox create -f FILE` (create only, never update), `cox create namespace NAME`, and the RBAC and
service account creators (create_rbac.py)."""
import argparse

from controlplane.api.kinds import KINDS
from controlplane.cli import common, create_quota, create_rbac, manifests
from controlplane.cli.printing.formats import resource_name
from controlplane.client import errors


def register(sub) -> None:
    p = sub.add_parser("create", help="create objects from manifests, or a namespace")
    p.add_argument("-f", "--filename", action="append", metavar="FILE",
                   help="manifest file, directory of manifests, or - for stdin (repeatable)")
    common.add_namespace_options(p, all_namespaces=False)
    common.add_config_option(p)
    p.set_defaults(func=run)
    kinds = p.add_subparsers(dest="what", metavar="KIND")
    ns = kinds.add_parser("namespace", aliases=["ns"], help="create a namespace")
    ns.add_argument("name")
    common.add_config_option(ns, default=argparse.SUPPRESS)
    ns.set_defaults(func=create_namespace)
    create_rbac.register_creators(kinds)
    create_quota.register_creators(kinds)


async def run(args) -> int:
    if not args.filename:
        raise common.CommandError("must specify -f FILE, or what to create: cox create namespace NAME")
    items = manifests.load(args.filename, namespace=args.namespace)
    failed = False
    async with common.connect(args) as client:
        problems = []
        for manifest in items:  # dry runs first: a bad document anywhere creates nothing
            try:
                await client.resource(manifest.kind).create(manifest.obj, dry_run=True)
            except errors.ApiError as e:
                problems.append(manifests.where(manifest, e))
        if problems:
            raise manifests.ManifestsInvalid(problems)
        for manifest in items:
            try:
                created = await client.resource(manifest.kind).create(manifest.obj)
            except errors.ApiError as e:
                common.report(manifests.where(manifest, e))
                failed = True
                continue
            print(f"{resource_name(manifest.kind, created.metadata.name)} created", flush=True)
    return 1 if failed else 0


async def create_namespace(args) -> int:
    kind = KINDS["Namespace"]
    async with common.connect(args) as client:
        created = await client.resource(kind).create(kind.new(metadata={"name": args.name}))
    print(f"{resource_name(kind, created.metadata.name)} created")
    return 0
