"""`cox config kubeconfig`: a kubeconfig for kubectl, made from a coxswain client config.

The token and CA are the client config's; the server is the REST API beside
its gRPC address (its port + 1, as `cox server` serves it by default) unless
--server names it.
"""
from controlplane.apiserver.rest import kubeconfig
from controlplane.cli import common
from controlplane.client.config import load as load_config


def register(sub) -> None:
    p = sub.add_parser("config", help="client configuration for other tools")
    verbs = p.add_subparsers(dest="config_command", metavar="COMMAND", required=True)
    k = verbs.add_parser("kubeconfig", help="print a kubeconfig for kubectl (e.g. > ~/.kube/config)")
    k.add_argument("--server", default="", metavar="URL",
                   help="the REST API's URL (default: https://<config's host>:<its port + 1>)")
    common.add_config_option(k)
    k.set_defaults(func=run)


async def run(args) -> int:
    config = load_config(args.config)
    print(kubeconfig.dumps(kubeconfig.kubeconfig(server=args.server or kubeconfig.rest_server_for(config.server),
                                                 ca_pem=config.ca, token=config.token)), end="")
    return 0
