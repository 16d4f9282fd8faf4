"""`cox explain KIND[.FIELD...] [--recursive]`: the fields of a kind, as `kubectl explain` lists them."""
from controlplane.cli import common
from controlplane.cli.common import CommandError
from controlplane.cli.printing import explain


def register(sub) -> None:
    p = sub.add_parser("explain", help="the fields of a kind: cox explain pod.spec.containers")
    p.add_argument("path", metavar="KIND[.FIELD...]", help="a kind, then field names: deployment.spec.template")
    p.add_argument("--recursive", action="store_true", help="every field below, indented")
    common.add_config_option(p)
    p.set_defaults(func=run)


async def run(args) -> int:
    word, *path = args.path.split(".")
    kind = common.resolve_kind(word)
    try:
        print(explain.explain(kind, path, recursive=args.recursive), end="")
    except explain.ExplainError as e:
        raise CommandError(str(e)) from None
    return 0
