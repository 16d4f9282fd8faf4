"""`cox get KIND [NAME...]`: kubectl's tables, or the objects as YAML, JSON or names.

With -w the command keeps watching from the revision its list was read at
and prints a row (or object) for every change, lined up under the first
table; if that revision is compacted away it starts over from the current
state.

Several kinds at once (`cox get deploy,rs,pods`, or `all` for kubectl's
workload set) print one table per kind with TYPE/NAME names, or one List.
"""
import sys

from controlplane.cli import common
from controlplane.cli.printing import columns, formats
from controlplane.cli.printing.table import Table
from controlplane.client import errors

_OUTPUTS = ("wide", "yaml", "json", "name")
# kubectl's `all` category, as far as these kinds exist here.
ALL = ("pods", "services", "daemonsets", "deployments", "replicasets", "statefulsets", "jobs", "cronjobs")


def register(sub) -> None:
    p = sub.add_parser("get", help="show objects")
    common.add_kind_arguments(p)
    common.add_namespace_options(p)
    p.add_argument("--field-selector", default="", help="field selector: spec.nodeName=node1")
    p.add_argument("-o", "--output", choices=_OUTPUTS, help="wide, yaml, json or name")
    p.add_argument("-w", "--watch", action="store_true", help="after listing, print changes as they happen")
    common.add_config_option(p)
    p.set_defaults(func=run)


async def run(args) -> int:
    if "," in args.kind or args.kind == "all":
        return await _run_kinds(args)
    kind, names = common.kind_and_names([args.kind, *args.names])
    if names and args.selector:
        raise common.CommandError("name cannot be provided when a selector is specified")
    if names and args.all_namespaces:
        raise common.CommandError("a resource cannot be retrieved by name across all namespaces")
    namespace = common.namespace(args) if kind.namespaced else ""
    output = Output(args.output, kind, namespaces=args.all_namespaces, watching=args.watch)
    async with common.connect(args) as client:
        resource = client.resource(kind)
        failed = False
        if names:
            objects, revision = [], ""
            for name in names:
                try:
                    objects.append(await resource.get(name, namespace=namespace))
                except errors.NotFound as e:
                    common.report(e)
                    failed = True
        else:
            listed = await resource.list(namespace=namespace, label_selector=args.selector,
                                         field_selector=args.field_selector)
            objects, revision = list(listed.items), listed.metadata.resource_version
        if kind.name == "Event":
            objects.sort(key=columns.event_order)
        if objects or (args.output in ("yaml", "json") and not args.watch):
            output.show(objects, single=len(names) == 1 and len(objects) == 1)
        elif not failed and not args.watch:
            print(f"No resources found in {namespace} namespace." if namespace else "No resources found",
                  file=sys.stderr)
        if args.watch:
            await _watch(resource, args, namespace, names, revision, output)
    return 1 if failed else 0


async def _run_kinds(args) -> int:
    """`cox get KIND,KIND...`: list each kind (no names, no watch, as kubectl allows)."""
    words = ALL if args.kind == "all" else [w for w in args.kind.split(",") if w]
    kinds = list(dict.fromkeys(common.resolve_kind(w) for w in words))
    if args.names:
        raise common.CommandError("names cannot be given with several kinds: use KIND/NAME")
    if args.watch:
        raise common.CommandError("you may only watch a single resource type")
    listed = []
    async with common.connect(args) as client:
        for kind in kinds:
            namespace = common.namespace(args) if kind.namespaced else ""
            items = (await client.resource(kind).list(namespace=namespace, label_selector=args.selector,
                                                      field_selector=args.field_selector)).items
            listed.append((kind, list(items)))
    if args.output in ("yaml", "json"):
        objects = [o for _, items in listed for o in items]
        print(formats.render(args.output, kinds[0], objects, single=False), end="")
        return 0
    blocks = [_kind_block(kind, items, args) for kind, items in listed if items]
    if blocks:
        print("\n\n".join(blocks))
    else:
        print("No resources found", file=sys.stderr)
    return 0


def _kind_block(kind, objects: list, args) -> str:
    """One kind's rows: names as TYPE/NAME (or only those, for -o name)."""
    if args.output == "name":
        return formats.render("name", kind, objects, single=False).rstrip("\n")
    header, rows = columns.table(kind, objects, wide=args.output == "wide", namespaces=args.all_namespaces)
    at = header.index("NAME")
    for row, obj in zip(rows, objects):
        row[at] = formats.resource_name(kind, obj.metadata.name)
    return "\n".join(Table(header).lines(rows, header=True))


class Output:
    """Prints objects in the chosen format; tables keep their column widths across calls."""

    def __init__(self, output: str | None, kind, *, namespaces: bool, watching: bool):
        self.output = output
        self.kind = kind
        self.namespaces = namespaces
        self.watching = watching
        self._table: Table | None = None

    def show(self, objects: list, *, single: bool = False) -> None:
        if self.output in ("yaml", "json", "name"):
            if self.watching and self.output != "name":
                for obj in objects:
                    text = formats.render(self.output, self.kind, [obj], single=True)
                    print(("---\n" if self.output == "yaml" else "") + text, end="", flush=True)
            else:
                print(formats.render(self.output, self.kind, objects, single=single), end="", flush=True)
            return
        header, rows = columns.table(self.kind, objects, wide=self.output == "wide",
                                     namespaces=self.namespaces)
        first = self._table is None
        if first:
            self._table = Table(header)
        print("\n".join(self._table.lines(rows, header=first)), flush=True)


async def _watch(resource, args, namespace: str, names: list[str], revision: str, output: Output) -> None:
    field_selector = args.field_selector
    if len(names) == 1:
        field_selector = ",".join(filter(None, [field_selector, f"metadata.name={names[0]}"]))
    while True:
        try:
            async for event in resource.watch(namespace=namespace, label_selector=args.selector,
                                              field_selector=field_selector, resource_version=revision):
                revision = event.object.metadata.resource_version
                if not names or event.object.metadata.name in names:
                    output.show([event.object])
            return
        except errors.Gone:
            revision = ""  # compacted: start over with the current state
