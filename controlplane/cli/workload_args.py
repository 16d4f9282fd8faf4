"""What the workload commands (rollout, scale, set) share beyond cli.common.

They act on one object, named as kubectl names it (`deployment/web` or
`deployment web`, any spelling of the kind), of the kinds the command
supports.
"""
from google.protobuf.message import Message

from controlplane.api import kinds
from controlplane.cli import common
from controlplane.cli.common import CommandError
from controlplane.client import Client, Resource, errors


def add_common(parser, *, kinds_help: str) -> None:
    parser.add_argument("target", nargs="+", metavar="KIND/NAME", help=f"{kinds_help}, as kind/name or kind name")
    common.add_namespace_options(parser, all_namespaces=False)
    common.add_config_option(parser)


def target(words: list[str], allowed: tuple[str, ...]) -> tuple[kinds.Kind, str]:
    """(kind, name) from `kind/name` or `kind name`; CommandError if not one of `allowed` kinds."""
    kind, names = common.kind_and_names(words)
    if len(names) != 1:
        raise CommandError(f"expected one KIND/NAME or KIND NAME, got {' '.join(words)!r}")
    if kind.name not in allowed:
        raise CommandError(f"{kind.plural} are not supported here (supported: "
                           f"{', '.join(kinds.by_name(k).plural for k in allowed)})")
    return kind, names[0]


async def fetch(client: Client, args, words: list[str], allowed: tuple[str, ...]) -> tuple[Resource, Message]:
    """The named object and the Resource to write it back through; CommandError if there is none."""
    kind, name = target(words, allowed)
    api = client.resource(kind)
    namespace = common.namespace(args)
    try:
        return api, await api.get(name, namespace=namespace)
    except errors.NotFound:
        raise CommandError(f'{kind.plural} "{name}" not found in namespace "{namespace}"') from None


def display(obj: Message) -> str:
    """kubectl's `deployment.apps/web` way of naming an object in messages."""
    kind = kinds.by_name(obj.kind)
    group = kind.api_version.rpartition("/")[0]
    return f"{kind.singular}{'.' + group if group else ''}/{obj.metadata.name}"
