"""`cox api-resources`: the kinds the server serves, as `kubectl api-resources` lists them.

The list is the kind registry (controlplane/api/kinds.py) that the server
this cox belongs to is built from, so it needs no connection.
"""
from controlplane.api import kinds
from controlplane.cli import common
from controlplane.cli.printing.table import Table


def register(sub) -> None:
    p = sub.add_parser("api-resources", help="the kinds the server serves")
    p.add_argument("--namespaced", choices=("true", "false"), default=None, help="only (non-)namespaced kinds")
    p.add_argument("--api-group", default=None, help='only this API group ("" for the core group)')
    p.add_argument("-o", "--output", choices=("name",), default=None, help="name: plural.group only")
    p.add_argument("--no-headers", action="store_true", help="without the header line")
    common.add_config_option(p)
    p.set_defaults(func=run)


def rows(*, namespaced: bool | None = None, group: str | None = None) -> list:
    return sorted((k for k in kinds.KINDS.values()
                   if (namespaced is None or k.namespaced == namespaced) and (group is None or k.group == group)),
                  key=lambda k: (k.group, k.plural))


async def run(args) -> int:
    namespaced = None if args.namespaced is None else args.namespaced == "true"
    listed = rows(namespaced=namespaced, group=args.api_group)
    if args.output == "name":
        print("\n".join(k.plural + (f".{k.group}" if k.group else "") for k in listed))
        return 0
    header = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    table = [[k.plural, ",".join(k.short_names), k.api_version, str(k.namespaced).lower(), k.name] for k in listed]
    print("\n".join(Table(header).lines(table, header=not args.no_headers)))
    return 0
