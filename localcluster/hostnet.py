"""The cluster's wires: a switch namespace with a bridge, one namespace per node, a veth from the host.

    host netns                switch netns (cox-NAME-sw)           node netns (cox-NAME-nodeI)
    cx<hash>h 198.18.X.1 ---- host -+                              eth0 198.18.X.(10+I)
                                     br0 -- p-nodeI ------------------ (its dockerd, its agent, its pods)

Why a switch namespace: a bridge in the host's namespace would pass every
node-to-node frame through the host's firewall (br_netfilter calls the host's
iptables for bridged traffic, and a host dockerd sets FORWARD to DROP). In a
namespace of its own the bridge sees only that namespace's empty rule set,
so the host's firewall is never consulted and never edited. The host reaches
the nodes (and they reach the API server on the host's address) over its veth:
that is local traffic, not forwarded. No namespace gets a default route, so
nothing a node or pod sends can leave the machine.
"""
from __future__ import annotations

import contextlib
import ipaddress
import subprocess

from pyroute2 import IPRoute
from pyroute2 import netns as pr_netns
from pyroute2.netlink.exceptions import NetlinkError

from localcluster.layout import NODE_LINK, SWITCH_BRIDGE, Layout


def used_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network the host has an address or a route in."""
    with IPRoute() as ipr:
        used = [ipaddress.ip_network(f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}", strict=False)
                for a in ipr.get_addr(family=2)]
        used += [ipaddress.ip_network(f"{r.get_attr('RTA_DST')}/{r['dst_len']}", strict=False)
                 for r in ipr.get_routes(family=2) if r.get_attr("RTA_DST")]
    return used


def _sysctl(netns: str, *settings: str) -> None:
    subprocess.run(["nsenter", f"--net=/run/netns/{netns}", "sysctl", "-qw", *settings], check=True,
                   capture_output=True, timeout=30)


def _address(ipr: IPRoute, ifname: str, address: str, prefixlen: int) -> None:
    index = ipr.link_lookup(ifname=ifname)[0]
    with contextlib.suppress(NetlinkError):   # EEXIST: already there
        ipr.addr("add", index=index, address=address, prefixlen=prefixlen)
    ipr.link("set", index=index, state="up")


def create_netns(name: str) -> None:
    if name not in pr_netns.listnetns():
        pr_netns.create(name)
    with IPRoute(netns=name) as ipr:
        ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")


def create_switch(layout: Layout, *, host_ip: str, prefixlen: int) -> None:
    """The switch namespace, its bridge, and the host's veth into it with the host's address."""
    create_netns(layout.switch_netns)
    # Bridged frames need not see any firewall (per namespace on recent kernels; harmless if absent).
    subprocess.run(["nsenter", f"--net=/run/netns/{layout.switch_netns}", "sysctl", "-qw",
                    "net.bridge.bridge-nf-call-iptables=0"], capture_output=True, timeout=30)
    with IPRoute(netns=layout.switch_netns) as ipr:
        if not ipr.link_lookup(ifname=SWITCH_BRIDGE):
            ipr.link("add", ifname=SWITCH_BRIDGE, kind="bridge")
        ipr.link("set", index=ipr.link_lookup(ifname=SWITCH_BRIDGE)[0], state="up")
    with IPRoute() as host:
        if not host.link_lookup(ifname=layout.host_link):
            host.link("add", ifname=layout.host_link, kind="veth",
                      peer={"ifname": "host", "net_ns_fd": layout.switch_netns})
        _address(host, layout.host_link, host_ip, prefixlen)
    _plug(layout.switch_netns, "host")


def _plug(switch_netns: str, port: str) -> None:
    with IPRoute(netns=switch_netns) as ipr:
        index = ipr.link_lookup(ifname=port)[0]
        ipr.link("set", index=index, master=ipr.link_lookup(ifname=SWITCH_BRIDGE)[0], state="up")


def create_node(layout: Layout, node: str, *, address: str, prefixlen: int) -> None:
    """The node's namespace and its uplink into the switch; forwarding on before any dockerd starts."""
    netns = layout.node_netns(node)
    create_netns(netns)
    port = layout.switch_port(node)
    with IPRoute(netns=layout.switch_netns) as ipr:
        if not ipr.link_lookup(ifname=port):
            ipr.link("add", ifname=port, kind="veth", peer={"ifname": NODE_LINK, "net_ns_fd": f"/run/netns/{netns}"})
    _plug(layout.switch_netns, port)
    with IPRoute(netns=netns) as ipr:
        _address(ipr, NODE_LINK, address, prefixlen)
    # dockerd sets FORWARD to DROP if it has to turn forwarding on itself (FINDINGS): turn it on first.
    _sysctl(netns, "net.ipv4.ip_forward=1")


def netns_pids(name: str) -> list[int]:
    """Processes in a namespace (ip netns pids); empty if it does not exist."""
    done = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, timeout=30)
    return [int(p) for p in done.stdout.split()] if done.returncode == 0 else []


def remove_netns(name: str) -> None:
    if name in pr_netns.listnetns():
        pr_netns.remove(name)


def remove_host_link(layout: Layout) -> None:
    with IPRoute() as host:
        for index in host.link_lookup(ifname=layout.host_link):
            with contextlib.suppress(NetlinkError):
                host.link("del", index=index)
