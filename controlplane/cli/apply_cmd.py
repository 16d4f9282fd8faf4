"""`cox apply -f FILE|DIR|-`: create each object, or update it when it exists.

As kubectl does, each document stands alone: in file order, each object is
created, or laid over the live one (see overlay) and updated on the live
resourceVersion, and the output is kubectl's: `pod/web created`, `configured`
or `unchanged` (the server found nothing to change). A refused document (bad
field, unknown kind, refused by the server) is reported on stderr with its
reason and the others are still applied; the exit status is then 1.
"""
from google.protobuf.message import Message

from controlplane.api.errors import InvalidError
from controlplane.cli import common, manifests, overlay
from controlplane.cli.printing.formats import resource_name
from controlplane.client import errors


def register(sub) -> None:
    p = sub.add_parser("apply", help="create or update objects from manifests")
    p.add_argument("-f", "--filename", action="append", required=True, metavar="FILE",
                   help="manifest file, directory of manifests, or - for stdin (repeatable)")
    common.add_namespace_options(p, all_namespaces=False)
    common.add_config_option(p)
    p.set_defaults(func=run)


async def run(args) -> int:
    entries = manifests.load_each(args.filename, namespace=args.namespace)
    failed = False
    async with common.connect(args) as client:
        for entry in entries:
            if isinstance(entry, manifests.Manifest) and not entry.name:
                entry = manifests.where(entry, "cannot use generateName with apply, name the object")
            if isinstance(entry, str):
                common.report(entry)
                failed = True
                continue
            try:
                outcome = await _apply(client.resource(entry.kind), entry)
            except (errors.ApiError, InvalidError) as e:
                common.report(manifests.where(entry, e))
                failed = True
                continue
            print(f"{resource_name(entry.kind, entry.name)} {outcome}", flush=True)
    return 1 if failed else 0


async def _apply(resource, manifest: manifests.Manifest) -> str:
    live = await _live(resource, manifest)
    if live is None:
        await resource.create(_desired(manifest, None))
        return "created"
    stored = await resource.update(_desired(manifest, live))
    return "unchanged" if stored.metadata.resource_version == live.metadata.resource_version else "configured"


async def _live(resource, manifest: manifests.Manifest) -> Message | None:
    try:
        return await resource.get(manifest.name, namespace=manifest.namespace)
    except errors.NotFound:
        return None


def _desired(manifest: manifests.Manifest, live: Message | None) -> Message:
    if live is not None:
        return overlay.applied(live, manifest.obj, manifest.data)
    obj = type(manifest.obj)()
    obj.CopyFrom(manifest.obj)
    obj.metadata.resource_version = ""  # as printed by `get -o yaml` of an object since deleted
    return obj
