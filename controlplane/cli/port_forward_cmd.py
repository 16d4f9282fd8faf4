"""`cox port-forward POD|KIND/NAME [LOCAL:]REMOTE...`: local ports that reach ports inside a pod.

Each connection to a local port becomes one exec of `nc 127.0.0.1 REMOTE`
in the pod's container (its network namespace is the pod's, so ports bound
only to the pod's loopback are reached too), with the connection's bytes as
its stdin and its stdout as the reply. The container's image needs an `nc`
(busybox's has one); a workload stands for one of its pods (cli/pod_target.py).
Listens on 127.0.0.1 unless --address says otherwise; runs until interrupted.
"""
import asyncio
import sys

import grpc

from controlplane.api.v1 import node_agent_pb2 as pb
from controlplane.cli import common, pod_target
from controlplane.cli.common import CommandError

CHUNK = 64 * 1024


def register(sub) -> None:
    p = sub.add_parser("port-forward", help="forward local ports to a pod")
    p.add_argument("pod", help="pod name, pod/NAME, or KIND/NAME for one of a workload's pods")
    p.add_argument("ports", nargs="+", metavar="[LOCAL:]REMOTE", help="8080:80, or 80 for the same port")
    p.add_argument("--address", default="127.0.0.1", help="the local address to listen on (127.0.0.1)")
    p.add_argument("-c", "--container", default="", help="container to run nc in (default: the first)")
    common.add_namespace_options(p, all_namespaces=False)
    common.add_config_option(p)
    p.set_defaults(free_words="ports", func=run)


def port_pairs(words: list[str]) -> list[tuple[int, int]]:
    """(local, remote) from `8080:80`, `80` (same port) or `:80` (any free local port: 0)."""
    pairs = []
    for word in words:
        local, sep, remote = word.rpartition(":")
        try:
            pair = (int(local) if local else 0 if sep else int(remote), int(remote))
        except ValueError:
            raise CommandError(f"invalid port {word!r}: expected [LOCAL:]REMOTE") from None
        if not all(0 <= p <= 65535 for p in pair) or not pair[1]:
            raise CommandError(f"invalid port {word!r}: ports are 1-65535")
        pairs.append(pair)
    return pairs


async def _relay(client, namespace: str, pod: str, container: str, remote: int, reader, writer) -> None:
    call = await client.resource("Pod").exec(pod, ["nc", "127.0.0.1", str(remote)], namespace=namespace,
                                             container=container, stdin=True)

    async def upstream():
        while data := await reader.read(CHUNK):
            await call.write(pb.ExecInput(stdin=data))
        await call.write(pb.ExecInput(stdin_closed=True))

    sending = asyncio.create_task(upstream())
    try:
        async for frame in call:
            if frame.stdout:
                writer.write(frame.stdout)
                await writer.drain()
            if frame.stderr:
                sys.stderr.buffer.write(frame.stderr)
                sys.stderr.flush()
    except (grpc.aio.AioRpcError, ConnectionError) as e:
        detail = e.details() if isinstance(e, grpc.aio.AioRpcError) else str(e)
        print(f"error: forwarding to port {remote} of pod/{pod}: {detail}", file=sys.stderr, flush=True)
    finally:
        sending.cancel()
        call.cancel()
        writer.close()


async def run(args) -> int:
    pairs = port_pairs(args.ports)
    namespace = common.namespace(args)
    async with common.connect(args) as client:
        pod = await pod_target.pod_name(client, args.pod, namespace, verb="forward ports of")
        await common.get_object(client, common.resolve_kind("pods"), namespace, pod)
        servers = []
        for local, remote in pairs:
            def handle(reader, writer, remote=remote):
                port = writer.get_extra_info("sockname")[1]
                print(f"Handling connection for {port}", flush=True)
                return _relay(client, namespace, pod, args.container, remote, reader, writer)
            server = await asyncio.start_server(handle, args.address, local)
            print(f"Forwarding from {args.address}:{server.sockets[0].getsockname()[1]} -> {remote}", flush=True)
            servers.append(server)
        await asyncio.gather(*(server.serve_forever() for server in servers))
    return 0
