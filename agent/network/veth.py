"""Wiring one pod's network namespace into the pod bridge, as CNI's bridge plugin does.

The sandbox (pause container) is made with network_mode=none: Docker gives
it a namespace with only `lo` and spends nothing on libnetwork. The agent
then adds a veth pair: one end, `veth<hash>`, on the pod bridge in the
node's namespace (hairpin on, so a pod reaching itself through a Service
gets its frames back); the other moved into the pod's namespace as `eth0`
with the pod IP and a default route via the bridge's address. The pair
lives as long as the namespace: when the pause container ends, the kernel
deletes both ends, so there is nothing to undo per pod but the address
(ipam.py).

No forking: netlink sockets are made inside the target namespace by a
short-lived thread (agent/proxy/netns.socket_in), also for the pod's.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os


from agent.network.netns import iproute

POD_IFNAME = "eth0"


def host_ifname(uid: str, attempt: int) -> str:
    """The bridge-side name: unique per sandbox, at most 15 characters, never `cox*` (ours to sweep)."""
    return "veth" + hashlib.sha256(f"{uid}/{attempt}".encode()).hexdigest()[:11]


def mac_of(address: str) -> str:
    """The pod's MAC address, made from its IP (0a:58 and the four bytes, as kubenet did): a pod that keeps
    its IP across sandboxes keeps its MAC too, so no neighbour's ARP cache points at a dead one."""
    return "0a:58:" + ":".join(f"{b:02x}" for b in ipaddress.ip_address(address).packed)


def attached(*, host_name: str, netns: str | None = None) -> bool:
    """Whether the bridge side of a sandbox's pair exists: the last step of attach() that cannot fail
    half-way is its creation, and a sandbox's namespace takes its peer (and so the pair) when it dies."""
    with iproute(netns) as node:
        return bool(node.link_lookup(ifname=host_name))


def attach(*, pid: int, host_name: str, address: str, pod_cidr: str, bridge: str, netns: str | None = None) -> None:
    """Give the namespace of process `pid` an eth0 with `address` on `bridge` (in the node's `netns`)."""
    network = ipaddress.ip_network(pod_cidr)
    gateway = str(next(network.hosts()))
    pod_ns = f"/proc/{pid}/ns/net"
    peer = f"{host_name[:11]}peer"
    with iproute(netns) as node:
        bridge_index = node.link_lookup(ifname=bridge)
        if not bridge_index:
            raise RuntimeError(f"pod bridge {bridge} does not exist")
        for stale in node.link_lookup(ifname=host_name):   # a half-made pair of an earlier try
            node.link("del", index=stale)
        fd = os.open(pod_ns, os.O_RDONLY)
        try:
            node.link("add", ifname=host_name, kind="veth",
                      peer={"ifname": peer, "net_ns_fd": fd, "address": mac_of(address)})
        finally:
            os.close(fd)
        index = node.link_lookup(ifname=host_name)[0]
        node.link("set", index=index, master=bridge_index[0])
        node.brport("set", index=index, mode=1)   # IFLA_BRPORT_MODE: hairpin
        node.link("set", index=index, state="up")
    with iproute(pod_ns) as pod:
        lo = pod.link_lookup(ifname="lo")[0]
        pod.link("set", index=lo, state="up")
        eth = pod.link_lookup(ifname=peer)[0]
        pod.link("set", index=eth, ifname=POD_IFNAME)
        pod.addr("add", index=eth, address=address, prefixlen=network.prefixlen)
        pod.link("set", index=eth, state="up")
        pod.route("add", dst="0.0.0.0/0", gateway=gateway, oif=eth)
