"""Acting in the node's network namespace: this process's own, or a named one (tests, `cox local`).

The agent normally runs inside its node's namespace and passes netns=None.
A test drives several nodes from one process, so every function here also
takes a namespace name (under /run/netns) or path, and reaches it without
forking a Python child: pyroute2's own `IPRoute(netns=...)` forks one, which
aborts in a process where gRPC threads are running. Instead the netlink
socket is made inside the namespace by a short-lived thread
(agent/proxy/netns.socket_in) and handed to pyroute2.
Commands run through `nsenter --net`, which keeps our mount namespace
(`ip netns exec` remounts /sys).
"""
from __future__ import annotations

import socket
import subprocess

from agent.proxy.netns import netns_path, socket_in   # the proxy's: shared, not copied
from agent.pyroute import IPRoute


def iproute(netns: str | None = None) -> IPRoute:
    """pyroute2's IPRoute on a netlink socket of that namespace."""
    if netns is None:
        return IPRoute()
    return IPRoute(use_socket=socket_in(netns, socket.AF_NETLINK, socket.SOCK_DGRAM, 0))


def ensure_bridge(ifname: str, *, netns: str | None = None) -> int:
    """An up bridge called `ifname` (made if missing; never given ports): its index. For the devices
    that only hold an address or a route (this kernel has no `dummy` links)."""
    with iproute(netns) as ipr:
        if not ipr.link_lookup(ifname=ifname):
            ipr.link("add", ifname=ifname, kind="bridge")
        index = ipr.link_lookup(ifname=ifname)[0]
        ipr.link("set", index=index, state="up")
        return index


def delete_link(ifname: str, *, netns: str | None = None) -> bool:
    """Delete the link (its addresses and routes go with it); False if there was none."""
    with iproute(netns) as ipr:
        found = ipr.link_lookup(ifname=ifname)
        for index in found:
            ipr.link("del", index=index)
    return bool(found)


def run(argv: list[str], *, netns: str | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run argv there; never raises on its exit code."""
    prefix = [] if netns is None else ["nsenter", f"--net={netns_path(netns)}"]
    return subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=timeout)


def enable_forwarding(*, netns: str | None = None) -> None:
    """net.ipv4.ip_forward=1: a node routes for its pods. Set before dockerd ever needs to, see README."""
    done = run(["sysctl", "-qw", "net.ipv4.ip_forward=1"], netns=netns)
    if done.returncode:
        raise RuntimeError(f"sysctl net.ipv4.ip_forward=1: {done.stderr.strip()}")
