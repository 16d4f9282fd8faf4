"""`cox delete KIND NAME... | KIND -l SEL | KIND --all | -f FILE`: delete objects.

--cascade says what happens to what the object owns (its pods, replica
sets): background (the default: deleted after it by the garbage collector),
foreground (deleted before it; it stays, with a deletionTimestamp, until
they are gone) or orphan (left in place). --grace-period gives pods that
many seconds to stop. --wait waits until each object has left the store,
which for a running pod means until its kubelet has stopped it.
"""
import argparse

from controlplane.cli import common, manifests
from controlplane.cli.printing.formats import resource_type
from controlplane.client import errors

_CASCADE = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan",
            "true": "Background", "false": "Orphan"}  # true/false: kubectl's older spelling


def register(sub) -> None:
    p = sub.add_parser("delete", help="delete objects by name, selector or manifest")
    common.add_kind_arguments(p, optional=True)
    p.add_argument("-f", "--filename", action="append", metavar="FILE",
                   help="delete the objects in these manifests (repeatable)")
    common.add_namespace_options(p, all_namespaces=False)
    p.add_argument("--all", action="store_true", help="every object of the kind in the namespace")
    p.add_argument("--grace-period", type=int, default=-1, metavar="SECONDS",
                   help="seconds a pod gets to stop (default: the pod's own setting)")
    p.add_argument("--cascade", default="background", type=str.lower, choices=sorted(_CASCADE),
                   help="background (default), foreground or orphan")
    p.add_argument("--wait", nargs="?", const=True, default=False, type=_boolean,
                   help="wait until the objects are gone")
    common.add_config_option(p)
    p.set_defaults(func=run)


def _boolean(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise argparse.ArgumentTypeError(f'"{text}" is not true or false')
    return text.lower() == "true"


async def run(args) -> int:
    if bool(args.filename) == bool(args.kind):
        raise common.CommandError("name what to delete: KIND NAME..., KIND -l SELECTOR, or -f FILE")
    async with common.connect(args) as client:
        targets = await _targets(client, args)
        if not targets:
            print("No resources found", flush=True)
            return 0
        failed = False
        for kind, namespace, name in targets:
            try:
                await _delete(client.resource(kind), args, namespace, name)
            except errors.ApiError as e:
                common.report(e)
                failed = True
                continue
            print(f'{resource_type(kind)} "{name}" deleted', flush=True)
    return 1 if failed else 0


async def _targets(client, args) -> list[tuple]:
    """(kind, namespace, name) of each object to delete, in order."""
    if args.filename:
        if args.selector or args.all:
            raise common.CommandError("-l and --all cannot be combined with -f")
        return [(m.kind, m.namespace, m.name) for m in manifests.load(args.filename, namespace=args.namespace)]
    return await common.objects_named(client, [args.kind, *args.names], args)


async def _delete(resource, args, namespace: str, name: str) -> None:
    grace = args.grace_period if args.grace_period >= 0 else None
    deleting = await resource.delete(name, namespace=namespace, grace_period_seconds=grace,
                                     propagation_policy=_CASCADE[args.cascade])
    if args.wait and deleting.metadata.HasField("deletion_timestamp"):
        await _gone(resource, namespace, deleting)


async def _gone(resource, namespace: str, obj) -> None:
    """Return once `obj` has left the store (watching from the revision its deletion began at)."""
    async for event in resource.watch(namespace=namespace, field_selector=f"metadata.name={obj.metadata.name}",
                                      resource_version=obj.metadata.resource_version):
        if event.type == "DELETED" and event.object.metadata.uid == obj.metadata.uid:
            return
