"""`cox server`: the control plane in one process (API server now; scheduler and controllers join it)."""
import asyncio
import pathlib
import signal

from controlplane.apiserver.server import APIServer, ServerOptions
from controlplane.client.config import default_path


def register(sub) -> None:
    p = sub.add_parser("server", help="run the control plane")
    p.add_argument("--data-dir", type=pathlib.Path, default=pathlib.Path("/var/lib/cox"),
                   help="state, credentials and client configs (default /var/lib/cox)")
    p.add_argument("--listen", default="0.0.0.0:6443", help="API address (default 0.0.0.0:6443)")
    p.add_argument("--datastore", default="",
                   help="sqlite:///path/state.db (default: in --data-dir) or etcd://host:port[,host:port]")
    p.add_argument("--tls-san", action="append", default=[],
                   help="extra name or IP for the serving certificate (repeatable)")
    p.add_argument("--service-cidr", default="10.96.0.0/12", help="ClusterIP range (default 10.96.0.0/12)")
    p.add_argument("--service-node-port-range", default="30000-32767",
                   help="NodePort range (default 30000-32767)")
    p.add_argument("--no-user-config", action="store_true",
                   help=f"do not write the admin client config to {default_path()}")
    p.set_defaults(func=run)


async def run(args) -> int:
    server = APIServer(ServerOptions(
        data_dir=args.data_dir, listen=args.listen, datastore=args.datastore, tls_sans=args.tls_san,
        service_cidr=args.service_cidr, node_port_range=args.service_node_port_range,
        user_config=None if args.no_user_config else default_path()))
    await server.start()
    print(f"cox server: API on {server.address}, admin config {args.data_dir / 'admin.yaml'}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()
    return 0
