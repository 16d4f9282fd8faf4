"""What the kubectl-like commands share: options, the client, kinds by name, errors.

Every command that talks to the API server takes --config (else $COX_CONFIG,
else ~/.cox/config) and most take -n/--namespace. Errors a user can act on
are one line each on stderr (`error: ...`) and a non-zero exit.
"""
import argparse
import contextlib
import sys

from controlplane.api import kinds
from controlplane.client import Client, errors, load_config

DEFAULT_NAMESPACE = "default"


class CommandError(Exception):
    """A failure to report to the user as one line."""


def report(message) -> None:
    """One `error: ...` line on stderr, for failures a command reports and carries on past."""
    print(f"error: {message}", file=sys.stderr, flush=True)


def add_config_option(parser, **kwargs) -> None:
    """--config on a command, as well as before it (`cox --config F get pods`, as kubectl takes
    its global flags). The command's own default is SUPPRESS so it keeps a value given earlier."""
    kwargs.setdefault("default", argparse.SUPPRESS)
    parser.add_argument("--config", metavar="FILE",
                        help="client config (default: $COX_CONFIG, else ~/.cox/config)", **kwargs)


def add_namespace_options(parser, *, all_namespaces: bool = True) -> None:
    parser.add_argument("-n", "--namespace", help=f'namespace (default "{DEFAULT_NAMESPACE}")')
    if all_namespaces:
        parser.add_argument("-A", "--all-namespaces", action="store_true",
                            help="across all namespaces")


def namespace(args) -> str:
    """The namespace the command works in: "" with -A, else -n, else "default"."""
    if getattr(args, "all_namespaces", False):
        return ""
    return args.namespace or DEFAULT_NAMESPACE


@contextlib.asynccontextmanager
async def connect(args):
    """An API client from the command's --config."""
    client = Client(load_config(args.config))
    try:
        yield client
    finally:
        await client.close()


def resolve_kind(word: str) -> kinds.Kind:
    """A kind as a user types it: pods, pod, po, Pod, deployments.apps."""
    try:
        return kinds.resolve(word)
    except KeyError:
        pass
    name, _, group = word.partition(".")
    try:
        kind = kinds.resolve(name)
    except KeyError:
        kind = None
    if kind is None or group != kind.api_version.rpartition("/")[0]:
        raise CommandError(f'the server doesn\'t have a resource type "{word}"')
    return kind


def add_kind_arguments(parser, *, optional: bool = False) -> None:
    """KIND [NAME...] and -l; a command reads them back with kind_and_names([args.kind, *args.names])."""
    parser.add_argument("kind", nargs="?" if optional else None, metavar="KIND",
                        help="a kind (pods, po, deployments.apps, ...) and names, or KIND/NAME")
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument("-l", "--selector", default="", help="label selector: app=web,tier!=db,env in (a,b)")


def kind_and_names(words: list[str]) -> tuple[kinds.Kind, list[str]]:
    """`KIND [NAME...]` or `KIND/NAME...` (one kind), as kubectl takes them."""
    if "/" not in words[0]:
        return resolve_kind(words[0]), words[1:]
    pairs = [word.partition("/") for word in words]
    if any(not sep or not name for _, sep, name in pairs):
        raise CommandError("there is no need to specify a resource type as a separate argument "
                           "when passing arguments in resource/name form")
    found = {resolve_kind(kind) for kind, _, _ in pairs}
    if len(found) > 1:
        raise CommandError("one kind at a time: " + ", ".join(sorted(k.plural for k in found)))
    return found.pop(), [name for _, _, name in pairs]


@contextlib.asynccontextmanager
async def metrics_endpoint(address: str, *, default: str):
    """A component's plain-HTTP /metrics for as long as it runs (none for an empty address, or a
    default one that is taken); a chosen address that cannot be served is this command's error."""
    from controlplane.metrics import endpoint
    try:
        served = await endpoint.start(address, default=default)
    except ValueError as e:
        raise CommandError(str(e)) from None
    try:
        yield served
    finally:
        if served is not None:
            await served.stop()


async def objects_named(client, words: list[str], args) -> list[tuple[kinds.Kind, str, str]]:
    """(kind, namespace, name) of the objects `KIND NAME...`, `KIND/NAME...`, `KIND -l SEL` or
    `KIND --all` name (args: namespace, selector, all), as kubectl's verbs take them."""
    kind, names = kind_and_names(words)
    namespace_ = namespace(args) if kind.namespaced else ""
    selector, every = getattr(args, "selector", ""), getattr(args, "all", False)
    if names and (selector or every):
        raise CommandError("name cannot be provided when a selector or --all is specified")
    if selector and every:
        raise CommandError("--all and -l cannot be combined")
    if names:
        return [(kind, namespace_, name) for name in names]
    if not selector and not every:
        raise CommandError(f"name the {kind.plural}, select them with -l, or give --all")
    listed = await client.resource(kind).list(namespace=namespace_, label_selector=selector)
    return [(kind, o.metadata.namespace, o.metadata.name) for o in listed.items]


async def get_object(client, kind: kinds.Kind, namespace: str, name: str):
    """The object, or CommandError in kubectl's words if there is none."""
    try:
        return await client.resource(kind).get(name, namespace=namespace)
    except errors.NotFound:
        raise CommandError(f'{kind.plural} "{name}" not found') from None
