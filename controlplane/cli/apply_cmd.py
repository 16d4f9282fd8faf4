"""`cox apply -f FILE|DIR|-`: create each object, or update it when it exists.

All documents are read, parsed and checked by the server (dry runs) before
the first write, so a bad document anywhere changes nothing. Then, in file order, each object is
created, or laid over the live one (see overlay) and updated on the live
resourceVersion; the output is kubectl's: `pod/web created`, `configured`
or `unchanged` (the server found nothing to change).
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
    items = manifests.load(args.filename, namespace=args.namespace)
    problems = [manifests.where(m, "cannot use generateName with apply, name the object")
                for m in items if not m.name]
    if problems:
        raise manifests.ManifestsInvalid(problems)
    failed = False
    async with common.connect(args) as client:
        await _check_all(client, items)
        for manifest in items:
            try:
                outcome = await _apply(client.resource(manifest.kind), manifest)
            except (errors.ApiError, InvalidError) as e:
                common.report(manifests.where(manifest, e))
                failed = True
                continue
            print(f"{resource_name(manifest.kind, manifest.name)} {outcome}", flush=True)
    return 1 if failed else 0


async def _check_all(client, items: list[manifests.Manifest]) -> None:
    """ManifestsInvalid with every problem, unless the server would accept every manifest.

    Each is a dry run of the create or update it will be. An object named
    twice is checked the second time against what the first manifest will
    have made of it.
    """
    problems, planned = [], {}
    for manifest in items:
        resource = client.resource(manifest.kind)
        key = (manifest.kind.name, manifest.namespace, manifest.name)
        live, exists = planned[key] if key in planned else (None, None)
        if exists is None:
            live = await _live(resource, manifest)
            exists = live is not None
        desired = _desired(manifest, live)
        try:
            result = await (resource.update(desired, dry_run=True) if exists
                            else resource.create(desired, dry_run=True))
        except errors.ApiError as e:
            problems.append(manifests.where(manifest, e))
            continue
        planned[key] = (result, exists)
    if problems:
        raise manifests.ManifestsInvalid(problems)


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
