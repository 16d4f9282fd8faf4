"""`cox apply -f FILE|DIR|-`: create each object, or update it when it exists.

All documents are read, parsed and validated before the first write, so a
bad document anywhere changes nothing. Then, in file order, each object is
created, or laid over the live one (see overlay) and updated on the live
resourceVersion; the output is kubectl's: `pod/web created`, `configured`
or `unchanged` (the server found nothing to change).
"""
from controlplane.api.errors import InvalidError
from controlplane.cli import common, manifests, overlay, precheck
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
    async with common.connect(args) as client:
        plans = await _plan(client, items)
        failed = False
        for manifest, live, desired in plans:
            resource = client.resource(manifest.kind)
            try:
                if live is None:
                    await resource.create(desired)
                    outcome = "created"
                else:
                    stored = await resource.update(desired)
                    same = stored.metadata.resource_version == live.metadata.resource_version
                    outcome = "unchanged" if same else "configured"
            except errors.ApiError as e:
                common.report(manifests.where(manifest, e))
                failed = True
                continue
            print(f"{resource_name(manifest.kind, manifest.name)} {outcome}", flush=True)
    return 1 if failed else 0


async def _plan(client, items: list[manifests.Manifest]) -> list:
    """(manifest, live object or None, object to write) for every manifest, or ManifestsInvalid."""
    plans, problems = [], []
    for manifest in items:
        resource = client.resource(manifest.kind)
        try:
            live = await resource.get(manifest.name, namespace=manifest.namespace)
        except errors.NotFound:
            live = None
        if live is None:
            desired = manifest.obj
            desired.metadata.resource_version = ""  # from a `get -o yaml` of an object since deleted
        else:
            desired = overlay.applied(live, manifest.obj, manifest.data)
        try:
            precheck.check(desired, live)
        except InvalidError as e:
            problems.append(manifests.where(manifest, e))
        plans.append((manifest, live, desired))
    if problems:
        raise manifests.ManifestsInvalid(problems)
    return plans
