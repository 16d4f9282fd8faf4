"""Where the DNS server listens: a link-local address on a device of its own, sockets made in the node.

The address sits on an empty bridge (`cox-dns`; this kernel has no `dummy`
links): any local address answers packets that reach the node, so pods
reach it through their default gateway, the pod bridge, and the node's own
processes directly. /32, so no route to anything else comes with it.

The sockets are made inside the node's network namespace (agent/network/netns.py),
so a test can run several nodes' DNS servers in one process.
"""
from __future__ import annotations

import errno
import socket

from agent.network.netns import ensure_bridge, iproute, socket_in
from agent.pyroute import NetlinkError

DEFAULT_ADDRESS = "169.254.20.10"   # the address NodeLocal DNSCache uses
DEFAULT_DEVICE = "cox-dns"


def ensure_address(address: str, *, device: str = DEFAULT_DEVICE, netns: str | None = None) -> None:
    """Create (if missing) and bring up `device`, with address/32 on it. Idempotent."""
    index = ensure_bridge(device, netns=netns)
    with iproute(netns) as ipr:
        try:
            ipr.addr("add", index=index, address=address, prefixlen=32)
        except NetlinkError as e:
            if e.code != errno.EEXIST:
                raise


def bind_sockets(address: str, port: int, *, netns: str | None = None) -> tuple[socket.socket, socket.socket]:
    """A bound UDP socket and a listening TCP socket on address:port, made in `netns` (a name or path)."""
    udp = socket_in(netns, socket.AF_INET, socket.SOCK_DGRAM, 0)
    tcp = socket_in(netns, socket.AF_INET, socket.SOCK_STREAM, 0)
    try:
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        udp.bind((address, port))
        tcp.bind((address, port))
        tcp.listen(128)
        udp.setblocking(False)
        tcp.setblocking(False)
    except BaseException:
        udp.close()
        tcp.close()
        raise
    return udp, tcp

