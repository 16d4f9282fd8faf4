"""The node agent's networking state in one network namespace, found by the names the agent's rooms use.

`agent_objects()` describes every such object it finds, one string each
("nft table ip coxswain-network", "link cox-dns", ...). tests/agent checks
with it that `cox agent --cleanup` removes all of it; leaks.py looks for it
in the host's namespace. The names come from
the rooms' own constants, so a renamed object is still found.
"""
from __future__ import annotations

import json

from agent.dns.listen import DEFAULT_ADDRESS as DNS_ADDRESS, DEFAULT_DEVICE as DNS_DEVICE
from agent.network import dockerfw, masquerade
from agent.network.netns import run
from agent.network.podbridge import POD_BRIDGE
from agent.network.routes import ROUTE_PROTO
from agent.proxy.names import FAMILY, TABLE_PREFIX
from agent.proxy.sink import DEFAULT_DEVICE as SINK_DEVICE

LINKS = (SINK_DEVICE, DNS_DEVICE, POD_BRIDGE)


def output(argv: list[str], netns: str | None = None) -> str:
    """argv's output, run in `netns`; an error if it fails."""
    done = run(argv, netns=netns)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


def agent_objects(netns: str | None = None) -> set[str]:
    """What of the agent's is in `netns` (a name under /run/netns; None: this process's namespace)."""
    found = set()
    for item in json.loads(output(["nft", "-j", "list", "tables"], netns))["nftables"]:
        table = item.get("table")
        if table and table["family"] == FAMILY and (
                table["name"].startswith(f"{TABLE_PREFIX}-") or table["name"] == masquerade.TABLE):
            found.add(f"nft table {FAMILY} {table['name']}")
    for link in json.loads(output(["ip", "-j", "address", "show"], netns)):
        if link["ifname"] in LINKS:
            found.add(f"link {link['ifname']}")
        found |= {f"address {a['local']} on {link['ifname']}" for a in link.get("addr_info", ())
                  if a.get("local") == DNS_ADDRESS}
    for route in json.loads(output(["ip", "-j", "route", "show", "proto", str(ROUTE_PROTO)], netns)):
        found.add(f"route {route['dst']} proto {ROUTE_PROTO}")
    for route in json.loads(output(["ip", "-j", "route", "show", "dev", SINK_DEVICE], netns)
                            if f"link {SINK_DEVICE}" in found else "[]"):
        found.add(f"route {route['dst']} dev {SINK_DEVICE}")
    rules = run(["iptables", "-w", "5", "-S", dockerfw.CHAIN], netns=netns)   # fails when there is no such chain
    found |= {f"iptables {line}" for line in rules.stdout.splitlines() if dockerfw.COMMENT in line}
    return found


def docker_user_rules(cluster_cidr: str) -> set[str]:
    """The pod network's two accepts in DOCKER-USER, as agent_objects() names them."""
    return {f'iptables -A {dockerfw.CHAIN} {flag} {cluster_cidr} -m comment --comment "{dockerfw.COMMENT}" -j ACCEPT'
            for flag in ("-s", "-d")}
