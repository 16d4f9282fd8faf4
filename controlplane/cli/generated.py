"""What `run` and `expose` share: --dry-run, -o, and creating the object they built.

As kubectl's generators: with `--dry-run=client -o yaml` the object is
printed and not sent; `--dry-run=server` sends it as a dry run; otherwise it
is created and `pod/web created` (or the verb's own word) printed.
"""
from controlplane.api import convert
from controlplane.api.kinds import Kind
from controlplane.cli import common
from controlplane.cli.printing import formats


def add_options(parser) -> None:
    parser.add_argument("--dry-run", choices=("none", "client", "server"), default="none",
                        help="client: only print the object; server: check it without keeping it")
    parser.add_argument("-o", "--output", choices=("yaml", "json", "name"), default=None,
                        help="print the object as yaml, json or its name")
    common.add_namespace_options(parser, all_namespaces=False)
    common.add_config_option(parser)


async def create(client, args, kind: Kind, data: dict, *, done: str) -> int:
    """Create (or, for --dry-run=client, only print) the object `data` describes."""
    obj = convert.parse(kind, data)
    if args.dry_run != "client":
        obj = await client.resource(kind).create(obj, dry_run=args.dry_run == "server")
    if args.output:
        print(formats.render(args.output, kind, [obj], single=True), end="")
    else:
        suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(args.dry_run, "")
        print(f"{formats.resource_name(kind, obj.metadata.name)} {done}{suffix}")
    return 0


def pairs(words: list[str], *, what: str) -> dict[str, str]:
    """KEY=VALUE words (--env, --labels) as a dict; CommandError naming a word without '='."""
    out = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise common.CommandError(f"invalid {what} {word!r}: expected KEY=VALUE")
        out[key] = value
    return out
