"""What the workload commands (rollout, scale, set) share: which object, over which client.

An object is named as kubectl names it, `deployment/web` or `deployment web`
(any spelling of the kind: deploy, deployments, rs). Every command takes
--config and -n/--namespace.
"""
from google.protobuf.message import Message

from controlplane.api import kinds
from controlplane.cli import main as cli  # main imports this module: use its names at call time only
from controlplane.client import Client, Resource, errors, load_config


def CommandError(message: str) -> Exception:  # noqa: N802 - stands in for the class
    """The CLI's one-line user error (cli.main.CommandError), built lazily because of the import cycle."""
    return cli.CommandError(message)


def add_common(parser, *, kinds_help: str) -> None:
    parser.add_argument("target", nargs="+", metavar="KIND/NAME", help=f"{kinds_help}, as kind/name or kind name")
    parser.add_argument("-n", "--namespace", default="default", help="namespace (default: default)")
    parser.add_argument("--config", help="client config (default: $COX_CONFIG or ~/.cox/config)")


def client_for(args) -> Client:
    return Client(load_config(args.config))


def target(words: list[str], allowed: tuple[str, ...]) -> tuple[kinds.Kind, str]:
    """(kind, name) from `kind/name` or `kind name`; CommandError if not one of `allowed` kinds."""
    if len(words) == 1 and "/" in words[0]:
        kind_word, name = words[0].split("/", 1)
    elif len(words) == 2:
        kind_word, name = words
    else:
        raise CommandError(f"expected KIND/NAME or KIND NAME, got {' '.join(words)!r}")
    try:
        kind = kinds.resolve(kind_word)
    except KeyError:
        raise CommandError(f'unknown kind "{kind_word}"') from None
    if kind.name not in allowed:
        raise CommandError(f"{kind.plural} are not supported here (supported: "
                          f"{', '.join(kinds.by_name(k).plural for k in allowed)})")
    if not name:
        raise CommandError("a name is required")
    return kind, name


async def fetch(client: Client, words: list[str], allowed: tuple[str, ...],
                namespace: str) -> tuple[Resource, Message]:
    """The named object and the Resource to write it back through; CommandError if there is none."""
    kind, name = target(words, allowed)
    api = client.resource(kind)
    try:
        return api, await api.get(name, namespace=namespace)
    except errors.NotFound:
        raise CommandError(f'{kind.plural} "{name}" not found in namespace "{namespace}"') from None


def display(obj: Message) -> str:
    """kubectl's `deployment.apps/web` way of naming an object in messages."""
    kind = kinds.by_name(obj.kind)
    group = kind.api_version.rpartition("/")[0]
    return f"{kind.singular}{'.' + group if group else ''}/{obj.metadata.name}"
