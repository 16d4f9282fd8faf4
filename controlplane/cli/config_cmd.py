"""`cox config new-user NAME --group G` and `cox config kubeconfig`: client configs for people and tools.

new-user: a client config for a person, minted on the server host. Run as root where the server's data directory is: the config carries a token
the cluster's signing key signed (apiserver/signedtokens.py), naming the user
and groups, valid for --duration (a year by default). Nothing is stored on
the server, so no restart is needed; what the user may do is what RBAC binds
to the name or the groups (`cox create rolebinding ... --user NAME`).

kubeconfig: a kubeconfig for kubectl, made from a coxswain client config. The
token and CA are the client config's; the server is the REST API beside its
gRPC address (its port + 1, as `cox server` serves it by default) unless
--server names it.
"""
import pathlib
import sys

from controlplane.cli import common
from controlplane.client import ClientConfig, load_config

# Groups and names that belong to nodes, join tokens and service accounts: never handed to a person.
RESERVED_GROUPS = ("system:nodes", "system:bootstrappers", "system:serviceaccounts")
RESERVED_NAME_PREFIXES = ("system:node:", "system:serviceaccount:", "system:bootstrap:")


def register(sub) -> None:
    p = sub.add_parser("config", help="client configs for people and tools")
    verbs = p.add_subparsers(dest="config_command", metavar="COMMAND", required=True)
    new_user = verbs.add_parser("new-user", help="print a client config for a user (run on the server host)")
    new_user.add_argument("name")
    new_user.add_argument("--group", action="append", default=[], help="a group of the user (repeatable)")
    new_user.add_argument("--data-dir", type=pathlib.Path, default=pathlib.Path("/var/lib/cox"),
                          help="the server's data directory (default /var/lib/cox)")
    new_user.add_argument("--duration", default="8760h", help="how long the credential lasts (default 8760h)")
    new_user.add_argument("-o", "--output", type=pathlib.Path, default=None,
                          help="write the config here (mode 0600) instead of printing it")
    common.add_config_option(new_user)   # accepted where every command takes it; the config is not used
    new_user.set_defaults(func=new_user_config)
    k = verbs.add_parser("kubeconfig", help="print a kubeconfig for kubectl (e.g. > ~/.kube/config)")
    k.add_argument("--server", default="", metavar="URL",
                   help="the REST API's URL (default: https://<config's host>:<its port + 1>)")
    common.add_config_option(k)
    k.set_defaults(func=print_kubeconfig)


async def print_kubeconfig(args) -> int:
    from controlplane.apiserver.rest import kubeconfig
    config = load_config(args.config)
    print(kubeconfig.dumps(kubeconfig.kubeconfig(server=args.server or kubeconfig.rest_server_for(config.server),
                                                 ca_pem=config.ca, token=config.token)), end="")
    return 0


def check_user(name: str, groups: list[str]) -> None:
    if not name:
        raise common.CommandError("NAME: required")
    if name.startswith(RESERVED_NAME_PREFIXES):
        raise common.CommandError(f'NAME: "{name}" names a node, service account or join token, not a person')
    for group in groups:
        if group.startswith(RESERVED_GROUPS):
            raise common.CommandError(f'--group: "{group}" is reserved for nodes, join tokens and service accounts')


async def new_user_config(args) -> int:
    from controlplane.apiserver import signedtokens
    from controlplane.cli.create_rbac import duration_seconds
    check_user(args.name, args.group)
    key_path = args.data_dir / "tls" / signedtokens.KEY_FILE
    try:
        key = key_path.read_bytes()
        admin = load_config(args.data_dir / "admin.yaml")
    except PermissionError:
        raise common.CommandError(f"{key_path}: permission denied (run as root on the server host)") from None
    except FileNotFoundError as e:
        raise common.CommandError(f"{e.filename}: not found (is --data-dir the server's data directory?)") from None
    token = signedtokens.user_token(key, args.name, args.group, seconds=duration_seconds(args.duration))
    config = ClientConfig(server=admin.server, ca=admin.ca, token=token)
    if args.output:
        config.write(args.output)
        print(f"wrote {args.output} for user {args.name}", file=sys.stderr)
    else:
        sys.stdout.write(config.render())
    return 0
