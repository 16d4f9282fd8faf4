"""`cox version`: this client's version, the server's, its datastore, and who you are to it."""
from controlplane import __version__
from controlplane.cli import common


def register(sub) -> None:
    p = sub.add_parser("version", help="show client and server versions")
    p.add_argument("--client", action="store_true", help="only the client version (no server needed)")
    common.add_config_option(p)
    p.set_defaults(func=run)


async def run(args) -> int:
    print(f"Client Version: {__version__}", flush=True)
    if args.client:
        return 0
    async with common.connect(args) as client:
        info = await client.version()
    groups = f" (groups: {', '.join(info.groups)})" if info.groups else ""
    print(f"Server Version: {info.server_version}")
    print(f"Datastore: {info.datastore}")
    print(f"User: {info.user}{groups}")
    return 0
