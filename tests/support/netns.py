"""Network namespaces, veth pairs and bridges for tests and benchmarks.

Everything gets a unique name (several runs share one kernel) and is
registered for teardown the moment it exists, so `Lab.close()` (or leaving
its `with` block) removes it even when a test fails halfway. Processes started
here are killed by PID. Namespaces are entered with `nsenter --net`, which
keeps the host's mount namespace (`ip netns exec` remounts /sys, which breaks
dockerd; see the netns findings).
"""
from __future__ import annotations

import contextlib
import ipaddress
import secrets
import signal
import subprocess

from pyroute2 import IPRoute
from pyroute2 import netns as pr_netns

IFNAMSIZ = 15


def unique_name(prefix: str) -> str:
    """prefix + random hex, at most 15 characters (the interface name limit)."""
    return f"{prefix[:IFNAMSIZ - 6]}{secrets.token_hex(3)}"


class Netns:
    """A named network namespace under /run/netns."""

    def __init__(self, name: str):
        self.name = name
        self.path = f"/run/netns/{name}"

    def argv(self, *cmd: str) -> list[str]:
        return ["nsenter", f"--net={self.path}", *cmd]

    def run(self, *cmd: str, check: bool = True, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*cmd), check=check, timeout=timeout, capture_output=True, text=True,
                              **kwargs)

    def iproute(self) -> IPRoute:
        return IPRoute(netns=self.name)

    def sysctl(self, key: str, value: str | int) -> None:
        """Set a per-namespace sysctl (written from inside, so it lands in this namespace)."""
        self.run("sysctl", "-qw", f"{key}={value}")

    def __repr__(self) -> str:
        return f"Netns({self.name})"


class Lab:
    """Creates namespaces, links and processes; tears them all down, last first."""

    def __init__(self):
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    def netns(self, prefix: str = "cox") -> Netns:
        ns = Netns(unique_name(prefix))
        pr_netns.create(ns.name)
        self._stack.callback(pr_netns.remove, ns.name)
        with ns.iproute() as ipr:
            ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")
        return ns

    def bridge(self, ns: Netns, *, address: str | None = None, prefix: str = "br") -> str:
        """An up bridge in `ns`, with `address` (CIDR) if given. Goes away with its namespace."""
        name = unique_name(prefix)
        with ns.iproute() as ipr:
            ipr.link("add", ifname=name, kind="bridge")
            index = ipr.link_lookup(ifname=name)[0]
            if address:
                _add_address(ipr, index, address)
            ipr.link("set", index=index, state="up")
        return name

    def veth(self, a: Netns, b: Netns, *, a_address: str | None = None, b_address: str | None = None,
             a_bridge: str | None = None, hairpin: bool = False, b_gateway: str | None = None) -> tuple[str, str]:
        """A veth pair from `a` to `b`, both ends up. The `a` end may join bridge `a_bridge`
        (with hairpin mode, so a port may receive back what it sent); `b` may get a default route.
        The pair goes away with either namespace."""
        a_name, b_name = unique_name("va"), unique_name("vb")
        with IPRoute() as host:
            host.link("add", ifname=a_name, kind="veth", peer=b_name)
            host.link("set", index=host.link_lookup(ifname=a_name)[0], net_ns_fd=a.name)
            host.link("set", index=host.link_lookup(ifname=b_name)[0], net_ns_fd=b.name)
        with a.iproute() as ipr:
            index = ipr.link_lookup(ifname=a_name)[0]
            if a_bridge:
                ipr.link("set", index=index, master=ipr.link_lookup(ifname=a_bridge)[0])
                if hairpin:
                    a.run("ip", "link", "set", "dev", a_name, "type", "bridge_slave", "hairpin", "on")
            if a_address:
                _add_address(ipr, index, a_address)
            ipr.link("set", index=index, state="up")
        with b.iproute() as ipr:
            index = ipr.link_lookup(ifname=b_name)[0]
            if b_address:
                _add_address(ipr, index, b_address)
            ipr.link("set", index=index, state="up")
            if b_gateway:
                ipr.route("add", dst="default", gateway=b_gateway)
        return a_name, b_name

    def process(self, ns: Netns, *cmd: str, **popen_kwargs) -> subprocess.Popen:
        """Start `cmd` in `ns`; killed by PID at teardown (nsenter execs it, so the PID is the command's)."""
        proc = subprocess.Popen(ns.argv(*cmd), **popen_kwargs)
        self._stack.callback(_kill, proc)
        return proc


def _add_address(ipr: IPRoute, index: int, cidr: str) -> None:
    iface = ipaddress.ip_interface(cidr)
    ipr.addr("add", index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
