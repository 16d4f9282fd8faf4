"""`cox server`: the control plane in one process, as k3s does it.

The API server, and beside it the controller manager and the scheduler, each
a client of the API server over loopback with its own identity, exactly as
when run alone (`cox controller-manager`, `cox scheduler`). Both are leader
elected, so several `cox server`s over one etcd never act twice.
"""
import asyncio
import contextlib
import ipaddress
import logging
import os
import pathlib
import signal

from controlplane.api import nodeidentity
from controlplane.cli import common, controller_manager_cmd
from controlplane.cli.common import CommandError
from controlplane.client import Client, ClientConfig
from controlplane.client.config import default_path
from controlplane.metrics import flag as metrics_flag

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("server", help="run the control plane")
    p.add_argument("--data-dir", type=pathlib.Path, default=pathlib.Path("/var/lib/cox"),
                   help="state, credentials and client configs (default /var/lib/cox)")
    p.add_argument("--listen", default="0.0.0.0:6443", help="API address (default 0.0.0.0:6443)")
    p.add_argument("--rest-listen", default="", metavar="HOST:PORT",
                   help="Kubernetes REST API address for kubectl (default: --listen's port + 1, e.g. 6444)")
    p.add_argument("--datastore", default="",
                   help="sqlite:///path/state.db (default: in --data-dir) or etcd://host:port[,host:port]")
    p.add_argument("--tls-san", action="append", default=[],
                   help="extra name or IP for the serving certificate (repeatable)")
    p.add_argument("--advertise-address", default="", metavar="IP",
                   help="address pods reach this API server at, the Endpoints of Service default/kubernetes "
                        "(default: the --listen address if specific, else the default route's interface address)")
    p.add_argument("--service-cidr", default="10.96.0.0/12", help="ClusterIP range (default 10.96.0.0/12)")
    p.add_argument("--service-node-port-range", default="30000-32767",
                   help="NodePort range (default 30000-32767)")
    p.add_argument("--no-user-config", action="store_true",
                   help=f"do not write the admin client config to {default_path()}")
    p.add_argument("--disable-controller-manager", action="store_true",
                   help="run no controllers here (run `cox controller-manager` elsewhere)")
    p.add_argument("--disable-scheduler", action="store_true",
                   help="run no scheduler here (run `cox scheduler` elsewhere)")
    p.add_argument("--scheduler-config", default="", metavar="FILE",
                   help="scheduler configuration (KubeSchedulerConfiguration subset), as `cox scheduler --config`")
    p.add_argument("--node-credential-seconds", type=int, default=nodeidentity.DEFAULT_CREDENTIAL_SECONDS,
                   metavar="SECONDS",
                   help="lifetime of the credential each node's agent asks for with the join token; agents renew "
                        "it after two thirds of it (default 604800, a week; at least 10)")
    p.add_argument("--encryption-provider-config", type=pathlib.Path, default=None, metavar="FILE",
                   help="EncryptionConfiguration for Secrets at rest (default: the server's own, made on first "
                        "start in DATA/tls/encryption.yaml with a new AES-GCM key)")
    ha = p.add_argument_group("high availability (README: High availability)")
    ha.add_argument("--cluster-init", action="store_true",
                    help="run an embedded etcd member (data in DATA/etcd) as the datastore: the first server of "
                         "a cluster others join with --server")
    ha.add_argument("--server", default="", metavar="https://HOST:PORT",
                    help="join the cluster of the server at this address: fetch its CA, keys and tokens with "
                         "--token, and add a member to its embedded etcd unless --datastore is given")
    ha.add_argument("--token", default=os.environ.get("COX_SERVER_TOKEN", ""),
                    help="the server token (DATA/server-token of a server of the cluster; default "
                         "$COX_SERVER_TOKEN); on a first server, the secret to use for it")
    ha.add_argument("--token-file", type=pathlib.Path, default=None, metavar="FILE", help="read --token from FILE")
    ha.add_argument("--etcd-client-port", type=int, default=None,
                    help="the embedded etcd member's client port (default 2379)")
    ha.add_argument("--etcd-peer-port", type=int, default=None,
                    help="the embedded etcd member's peer port (default 2380)")
    controller_manager_cmd.add_controller_options(p)
    # The whole process's metrics are at /metrics on the REST port, behind TLS, a token and RBAC.
    metrics_flag.add_flag(p, default="")
    p.set_defaults(func=run)


def _server_token(args) -> str:
    if args.token_file is None:
        return args.token
    try:
        return args.token_file.read_text().strip()
    except (OSError, UnicodeDecodeError) as e:
        raise CommandError(f"--token-file: {e}") from None


def _ha_options(args) -> dict:
    """The ServerOptions of --cluster-init, --server and --token, checked against each other."""
    token = _server_token(args)
    if args.server and args.cluster_init:
        raise CommandError("--cluster-init: a server joining another (--server) does not start a new cluster")
    if args.cluster_init and args.datastore:
        raise CommandError("--cluster-init: the embedded etcd is the datastore; give no --datastore")
    if args.server and not token:
        raise CommandError("--token: required with --server (the server token, DATA/server-token of a server)")
    ports = {"etcd_client_port": args.etcd_client_port, "etcd_peer_port": args.etcd_peer_port}
    return {"join": args.server.removeprefix("https://").rstrip("/"), "server_token": token,
            "cluster_init": args.cluster_init, **{k: v for k, v in ports.items() if v is not None}}


def _component_client(server, user: str) -> Client:
    creds = server.credentials
    return Client(ClientConfig(server=server.address, ca=creds.ca_pem.decode(),
                               token=creds.component_tokens[user]))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


async def run(args) -> int:
    # Imported here, not at the top: every `cox` command loads this module to register it.
    from controlplane.apiserver.clusterbootstrap import BootstrapError
    from controlplane.apiserver.encryption import ConfigError
    from controlplane.apiserver.etcdmember import EtcdMemberError
    from controlplane.apiserver.server import APIServer, ServerOptions
    from controlplane.controllers.manager import ControllerManager
    from controlplane.scheduler import config as scheduler_config
    from controlplane.scheduler.scheduler import run_scheduler

    try:
        controller_options = controller_manager_cmd.options_from(args)
        scheduler_settings = (scheduler_config.load(args.scheduler_config) if args.scheduler_config
                              else scheduler_config.SchedulerConfig())
    except (ValueError, scheduler_config.ConfigError) as e:
        raise CommandError(str(e)) from None
    if args.node_credential_seconds < 10:
        raise CommandError("--node-credential-seconds: must be at least 10")
    if args.advertise_address and not _is_ip(args.advertise_address):
        raise CommandError(f'--advertise-address: "{args.advertise_address}" is not an IP address')
    server = APIServer(ServerOptions(
        data_dir=args.data_dir, listen=args.listen, rest_listen=args.rest_listen, datastore=args.datastore, tls_sans=args.tls_san,
        service_cidr=args.service_cidr, node_port_range=args.service_node_port_range,
        node_credential_seconds=args.node_credential_seconds, advertise_address=args.advertise_address,
        encryption_config=args.encryption_provider_config,
        user_config=None if args.no_user_config else default_path(), **_ha_options(args)))
    try:
        await server.start()
    except (ConfigError, BootstrapError, EtcdMemberError) as e:
        await server.stop(grace=0)
        raise CommandError(str(e)) from None
    print(f"cox server: API on {server.address}, admin config {args.data_dir / 'admin.yaml'}, "
          f"dashboard https://{server.rest_address}/dashboard/", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with contextlib.AsyncExitStack() as components:
        await components.enter_async_context(common.metrics_endpoint(args.metrics_bind_address, default=""))
        tasks = []
        if not args.disable_controller_manager:
            client = await components.enter_async_context(
                _component_client(server, "system:kube-controller-manager"))
            tasks.append(asyncio.create_task(ControllerManager(client, controller_options).run(stop),
                                             name="controller-manager"))
        if not args.disable_scheduler:
            client = await components.enter_async_context(_component_client(server, "system:kube-scheduler"))
            tasks.append(asyncio.create_task(run_scheduler(client, stop=stop, config=scheduler_settings),
                                             name="scheduler"))
        await stop.wait()
        await asyncio.gather(*tasks, return_exceptions=True)
    await server.stop()
    return 0
