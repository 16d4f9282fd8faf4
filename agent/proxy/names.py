"""Every name in the proxy's nft table, and the base chains as data.

Names live here, once, so the renderer, the change tracker and the tests
spell them the same way. Per-service names are the readable identity itself
(namespace/name/protocol/port, plus ip/port for an affinity set): Kubernetes'
name limits keep the longest under 200 characters, inside nft's 256, so no
hash is needed to stay unique. They are also plain nft identifiers (letters,
digits, `-`, `_`, `.`, `/`; no nft keyword), so `nft list` output can be fed
back to `nft -f` as it is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

FAMILY = "ip"
TABLE_PREFIX = "coxswain-proxy"

# Regular chains shared by all services.
SERVICES = "services"  # VIP and NodePort dispatch (verdict maps)
NO_ENDPOINTS = "no-endpoints"  # services without ready endpoints -> REJECT
REJECT = "refuse"  # tcp reset / icmp port-unreachable ("reject" is a word of nft's syntax)
MARK_FOR_MASQUERADE = "mark-for-masquerade"
MASQUERADING = "masquerading"

# Maps and sets shared by all services.
SERVICE_IPS = "service-ips"  # VIP . l4proto . port : goto service chain (load balancer IP: its chain)
SERVICE_NODEPORTS = "service-nodeports"  # l4proto . nodePort : goto external chain
NO_ENDPOINT_SERVICES = "no-endpoint-services"  # VIP . l4proto . port
NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports"  # l4proto . nodePort
NODE_IPS = "node-ips"  # addresses a NodePort answers on
HAIRPIN = "hairpin"  # endpoint IP . same IP . VIP . l4proto . port: a pod reached itself through a Service
SERVICE_ENDPOINTS = "service-endpoints"  # VIP . l4proto . port . slot : endpoint IP . port
NODEPORT_ENDPOINTS = "nodeport-endpoints"  # l4proto . nodePort . slot : endpoint IP . port

MASQUERADE_MARK = 0x4000

# Per-service object name prefixes.
SERVICE_CHAIN_PREFIX = "svc"
EXTERNAL_CHAIN_PREFIX = "ext"  # NodePort traffic
LOAD_BALANCER_CHAIN_PREFIX = "lb"  # traffic to a status.loadBalancer.ingress address
AFFINITY_SET_PREFIX = "aff"
PICK_CHAIN_PREFIX = "pick"  # shared by every Service port with the same protocol and endpoint count

@dataclass(frozen=True)
class BaseChain:
    name: str
    type: str
    hook: str
    priority: int
    jump_to: str


# nft 1.0.6 refuses `priority dstnat` on the output hook, so priorities are numbers:
# -110 filters before DNAT (it must see the Service address), -100 is dstnat,
# 100 is srcnat.
BASE_CHAINS = (
    BaseChain("filter-prerouting", "filter", "prerouting", -110, NO_ENDPOINTS),
    BaseChain("filter-output", "filter", "output", -110, NO_ENDPOINTS),
    BaseChain("nat-prerouting", "nat", "prerouting", -100, SERVICES),
    BaseChain("nat-output", "nat", "output", -100, SERVICES),
    BaseChain("nat-postrouting", "nat", "postrouting", 100, MASQUERADING),
)


def table_name(node_name: str) -> str:
    """The table one node's agent owns; per node so several can share a kernel in tests."""
    return f"{TABLE_PREFIX}-{re.sub(r'[^A-Za-z0-9_.-]', '_', node_name)}"


def service_chain(identity: str) -> str:
    return f"{SERVICE_CHAIN_PREFIX}-{identity}"


def pick_chain(protocol: str, endpoints: int, *, nodeport: bool = False) -> str:
    """The chain that DNATs to one of `endpoints` endpoints of any Service port (or NodePort)."""
    return f"{PICK_CHAIN_PREFIX}-{'nodeport-' if nodeport else ''}{protocol}-{endpoints}"


def external_chain(identity: str) -> str:
    return f"{EXTERNAL_CHAIN_PREFIX}-{identity}"


def load_balancer_chain(identity: str) -> str:
    return f"{LOAD_BALANCER_CHAIN_PREFIX}-{identity}"


def affinity_set(identity: str, ip: str, port: int, timeout: int) -> str:
    """The timeout is part of the name: changing it makes a new set, not an edited one."""
    return f"{AFFINITY_SET_PREFIX}-{identity}__{ip}/{port}/{timeout}s"
