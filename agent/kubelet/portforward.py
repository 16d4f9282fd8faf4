"""A TCP connection to a port inside a pod, for port-forward (the API server relays it).

As kubelet does, the connection is made from inside the pod's network
namespace to its loopback, so a server listening on 127.0.0.1 in the pod is
reached as well as one on the pod's address. The socket is made in the
sandbox's namespace (`/proc/<pid>/ns/net`) by agent/proxy/netns.socket_in and
then used from the event loop like any other; a host-network pod's port is
the node's loopback.
"""
import asyncio
import os
import socket

from google.protobuf.message import Message

from agent.kubelet.pleg import ContainerCache
from agent.kubelet.streaming import StreamError
from agent.proxy.netns import socket_in
from agent.runtime.types import Kind, State

LOOPBACK = "127.0.0.1"


def _namespace_of(cache: ContainerCache, pod: Message) -> str | None:
    """The pod's network namespace as a path; None for a host-network pod (the agent's own)."""
    sandboxes = [s for s in cache.of_pod(pod.metadata.uid) if s.kind is Kind.SANDBOX and s.state is State.RUNNING]
    if not sandboxes or not sandboxes[-1].pid:
        raise StreamError("FAILED_PRECONDITION", f'pod "{pod.metadata.name}" has no running sandbox')
    sandbox = sandboxes[-1]
    return None if sandbox.host_network else f"/proc/{sandbox.pid}/ns/net"


async def connect(cache: ContainerCache, pod: Message, port: int) -> tuple[asyncio.StreamReader,
                                                                             asyncio.StreamWriter]:
    if not 0 < port < 65536:
        raise StreamError("INVALID_ARGUMENT", f"port: {port} is not a TCP port")
    netns = _namespace_of(cache, pod)
    try:
        sock = await asyncio.to_thread(socket_in, netns, socket.AF_INET, socket.SOCK_STREAM, 0)
    except OSError as e:
        raise StreamError("UNAVAILABLE", f'entering the network namespace of pod "{pod.metadata.name}": {e}') \
            from None
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (LOOPBACK, port))
    except OSError as e:
        sock.close()
        reason = os.strerror(e.errno) if e.errno else str(e)
        raise StreamError("UNAVAILABLE", f"connecting to port {port} in the pod: {reason}") from None
    return await asyncio.open_connection(sock=sock)
