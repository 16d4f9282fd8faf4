"""`cox get KIND [NAME...]`: kubectl's tables, or the objects as YAML, JSON or names.

With -w the command keeps watching from the revision its list was read at
and prints a row (or object) for every change, lined up under the first
table; if that revision is compacted away it starts over from the current
state.

Several kinds at once (`cox get deploy,rs,pods`, or `all` for kubectl's
workload set) print one table per kind with TYPE/NAME names, or one List.

Besides the tables: `-o jsonpath=TEMPLATE`, `-o custom-columns=H:PATH,...`,
`--sort-by=PATH`, `--no-headers`, `--show-labels` and `-L KEY`, as kubectl
reads them (printing/jsonpath.py, printing/custom.py).
"""
import argparse
import sys

from controlplane.api import convert
from controlplane.cli import common
from controlplane.cli.printing import columns, custom, formats, jsonpath
from controlplane.cli.printing.table import Table
from controlplane.client import errors

_OUTPUTS = ("wide", "yaml", "json", "name")
_TEMPLATED = ("jsonpath", "custom-columns")


def output_format(text: str) -> tuple[str, str]:
    """-o's value as (format, template): ("wide", ""), ("jsonpath", "{.x}"), ...; checked as it is read."""
    name, sep, template = text.partition("=")
    if name in _OUTPUTS and not sep:
        return name, ""
    if name not in _TEMPLATED or not template:
        raise argparse.ArgumentTypeError(
            f'unable to match a printer suitable for the output format "{text}", allowed formats are: '
            + ",".join([*_OUTPUTS, "jsonpath=TEMPLATE", "custom-columns=SPEC"]))
    try:
        custom.parse_columns(template) if name == "custom-columns" else jsonpath.parse(template)
    except jsonpath.JSONPathError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return name, template
# kubectl's `all` category, as far as these kinds exist here.
ALL = ("pods", "services", "daemonsets", "deployments", "replicasets", "statefulsets", "jobs", "cronjobs")


def register(sub) -> None:
    p = sub.add_parser("get", help="show objects")
    common.add_kind_arguments(p)
    common.add_namespace_options(p)
    p.add_argument("--field-selector", default="", help="field selector: spec.nodeName=node1")
    p.add_argument("-o", "--output", type=output_format, default=("", ""),
                   help="wide, yaml, json, name, jsonpath=TEMPLATE or custom-columns=HEADER:PATH,...")
    p.add_argument("--sort-by", default="", metavar="PATH", help="sort by this field: .metadata.name")
    p.add_argument("--no-headers", action="store_true", help="tables without their header line")
    p.add_argument("--show-labels", action="store_true", help="a LABELS column")
    p.add_argument("-L", "--label-columns", action="append", default=[], metavar="KEY",
                   help="a column with this label's value (repeatable, or KEY1,KEY2)")
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
    output = Output(args, kind)
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
        if kind.name == "Event" and not args.sort_by:
            objects.sort(key=columns.event_order)
        if objects or (output.format in ("yaml", "json", "jsonpath") and not args.watch):
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
    output = Output(args, kinds[0])
    if output.format in ("yaml", "json", "jsonpath"):
        output.show([o for _, items in listed for o in items])
        return 0
    blocks = [Output(args, kind).block(items, kind_names=True) for kind, items in listed if items]
    if blocks:
        print("\n\n".join(blocks))
    else:
        print("No resources found", file=sys.stderr)
    return 0


class Output:
    """Prints objects in the chosen format; tables keep their column widths across calls."""

    def __init__(self, args, kind):
        self.format, self.template = args.output
        self.kind = kind
        self.args = args
        self.label_keys = [key for value in args.label_columns for key in value.split(",") if key]
        self._table: Table | None = None

    def show(self, objects: list, *, single: bool = False) -> None:
        objects = self._sorted(objects)
        if self.format == "jsonpath":
            data = convert.to_dict(objects[0]) if single else formats.as_list(objects)
            print(jsonpath.render(self.template, data), end="", flush=True)
        elif self.format in ("yaml", "json", "name"):
            if self.args.watch and self.format != "name":
                for obj in objects:
                    text = formats.render(self.format, self.kind, [obj], single=True)
                    print(("---\n" if self.format == "yaml" else "") + text, end="", flush=True)
            else:
                print(formats.render(self.format, self.kind, objects, single=single), end="", flush=True)
        else:
            header, rows = self._rows(objects)
            first = self._table is None
            if first:
                self._table = Table(header)
            lines = self._table.lines(rows, header=first and not self.args.no_headers)
            print("\n".join(lines), flush=True)

    def block(self, objects: list, *, kind_names: bool) -> str:
        """One kind's table (names as TYPE/NAME when several kinds print), or its -o name lines."""
        objects = self._sorted(objects)
        if self.format == "name":
            return formats.render("name", self.kind, objects, single=False).rstrip("\n")
        header, rows = self._rows(objects)
        if kind_names and "NAME" in header:
            at = header.index("NAME")
            for row, obj in zip(rows, objects):
                row[at] = formats.resource_name(self.kind, obj.metadata.name)
        return "\n".join(Table(header).lines(rows, header=not self.args.no_headers))

    def _rows(self, objects: list) -> tuple[list[str], list[list[str]]]:
        # The objects become JSON only for what reads JSON paths: converting 1,000 pods costs more than
        # printing them.
        if self.format == "custom-columns":
            return custom.custom_rows(custom.parse_columns(self.template), [convert.to_dict(o) for o in objects])
        header, rows = columns.table(self.kind, objects, wide=self.format == "wide",
                                     namespaces=self.args.all_namespaces)
        if not self.label_keys and not self.args.show_labels:
            return header, rows
        return custom.label_columns(header, rows, [convert.to_dict(o) for o in objects], keys=self.label_keys,
                                    show_labels=self.args.show_labels)

    def _sorted(self, objects: list) -> list:
        if not self.args.sort_by or len(objects) < 2:
            return objects
        order = custom.sort_order(self.args.sort_by, [convert.to_dict(o) for o in objects])
        return [objects[i] for i in order]


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
