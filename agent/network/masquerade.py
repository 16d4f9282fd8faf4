"""Masquerade of pod traffic leaving the cluster CIDR: our own small nft table.

Pod to pod traffic keeps its source address on every node (Docker's own
masquerade is switched off on the pod network); traffic from a pod to
anything outside the cluster CIDR leaves with the node's address, as on
Kubernetes with flannel. The rule runs in postrouting, after the proxy's DNAT,
so a pod reaching a Service whose endpoint is a pod is not masqueraded.

Nobody else edits the table: every call replaces it whole, atomically.
"""
from __future__ import annotations

import ipaddress

from agent.proxy.applier import Applier, delete_table
from agent.proxy.nftjson import DADDR, SADDR, Command, Table, match

TABLE = "coxswain-network"
CHAIN = "postrouting"
PRIORITY = 100   # srcnat


def _prefix(cidr: str) -> dict:
    net = ipaddress.ip_network(cidr)
    return {"prefix": {"addr": str(net.network_address), "len": net.prefixlen}}


def render(cluster_cidr: str) -> list[Command]:
    table = Table(TABLE)
    cluster = _prefix(cluster_cidr)
    return [*table.recreate(),
            table.add_chain(CHAIN, type="nat", hook="postrouting", prio=PRIORITY, policy="accept"),
            table.add_rule(CHAIN, [match(SADDR, cluster), match(DADDR, cluster, "!="), {"masquerade": None}])]


def ensure_masquerade(cluster_cidr: str, *, netns: str | None = None) -> None:
    Applier(netns=netns).apply(render(cluster_cidr))


def remove_masquerade(*, netns: str | None = None) -> bool:
    """Delete the table; False if it was not there."""
    return delete_table(TABLE, netns=netns)
