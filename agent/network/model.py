"""The pod network's view of a Node: its podCIDR and InternalIP, nothing else.

Node objects change every heartbeat; only these two fields matter here, so
the controller compares `NodeRoute`s and stays idle through status updates.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from controlplane.api.v1 import core_pb2

DEFAULT_CLUSTER_CIDR = "10.244.0.0/16"


@dataclass(frozen=True)
class NodeRoute:
    """Where one node's pods live: `pod_cidr`, reached via `node_ip`. Either may be empty."""
    pod_cidr: str
    node_ip: str


def node_route(node: core_pb2.Node) -> NodeRoute:
    ips = [a.address for a in node.status.addresses if a.type == "InternalIP" and is_ipv4(a.address)]
    cidr = node.spec.pod_cidr
    return NodeRoute(pod_cidr=cidr if _is_ipv4_network(cidr) else "", node_ip=ips[0] if ips else "")


def desired_routes(nodes: dict[str, NodeRoute], *, own_name: str) -> dict[str, str]:
    """podCIDR -> gateway for every other node that has both.

    The own podCIDR is on the bridge; a route for it (another node claiming the
    same subnet) would replace the bridge's own route, so it is never made.
    """
    own = nodes.get(own_name, NodeRoute("", "")).pod_cidr
    return {r.pod_cidr: r.node_ip for name, r in sorted(nodes.items())
            if name != own_name and r.pod_cidr and r.node_ip and r.pod_cidr != own}


def gateway_of(pod_cidr: str) -> str:
    """The bridge's address on a podCIDR: its first host (Docker's default gateway too)."""
    return str(next(ipaddress.ip_network(pod_cidr).hosts()))


def is_ipv4(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 4
    except ValueError:
        return False


def _is_ipv4_network(text: str) -> bool:
    try:
        return ipaddress.ip_network(text).version == 4
    except ValueError:
        return False
