"""Acting in the node's network namespace: this process's own, or a named one (tests, `cox local`).

The agent normally runs inside its node's namespace and passes netns=None.
A test drives several nodes from one process, so every function here also
takes a namespace name (under /run/netns) or path, and reaches it without
forking a Python child: pyroute2's own `IPRoute(netns=...)` forks one, which
aborts in a process where gRPC threads are running. Instead, a short-lived
thread enters the namespace (setns changes only the calling thread) and
opens the socket there; a socket stays in the namespace it was made in.
Commands run through `nsenter --net`, which keeps our mount namespace
(`ip netns exec` remounts /sys).
"""
from __future__ import annotations

import socket
import subprocess
import threading

from pyroute2 import IPRoute
from pyroute2.netns import setns


def netns_path(netns: str) -> str:
    """A name under /run/netns, or already a path to a namespace file."""
    return netns if "/" in netns else f"/run/netns/{netns}"


def socket_in(netns: str | None, family: int, kind: int, proto: int = 0) -> socket.socket:
    """A new socket in `netns` (None: here)."""
    if netns is None:
        return socket.socket(family, kind, proto)
    result: list = []

    def inside() -> None:
        try:
            setns(netns_path(netns), flags=0)   # flags=0: never create the namespace
            result.append(socket.socket(family, kind, proto))
        except BaseException as e:
            result.append(e)

    thread = threading.Thread(target=inside, name="netns-socket")
    thread.start()
    thread.join()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def iproute(netns: str | None = None) -> IPRoute:
    """pyroute2's IPRoute on a netlink socket of that namespace."""
    if netns is None:
        return IPRoute()
    return IPRoute(use_socket=socket_in(netns, socket.AF_NETLINK, socket.SOCK_DGRAM, 0))


def run(argv: list[str], *, netns: str | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run argv there; never raises on its exit code."""
    prefix = [] if netns is None else ["nsenter", f"--net={netns_path(netns)}"]
    return subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=timeout)


def enable_forwarding(*, netns: str | None = None) -> None:
    """net.ipv4.ip_forward=1: a node routes for its pods. Set before dockerd ever needs to, see README."""
    done = run(["sysctl", "-qw", "net.ipv4.ip_forward=1"], netns=netns)
    if done.returncode:
        raise RuntimeError(f"sysctl net.ipv4.ip_forward=1: {done.stderr.strip()}")
