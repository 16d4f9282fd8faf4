"""Every name in the proxy's nft table, and the base chains as data.

Names live here, once, so the renderer, the change tracker and the tests
spell them the same way. Per-service names are the readable identity itself
(namespace/name/protocol/port, plus ip/port for an endpoint): Kubernetes'
name limits keep the longest under 200 characters, inside nft's 256, so no
hash is needed to stay unique.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

FAMILY = "ip"
TABLE_PREFIX = "coxswain-proxy"

# Regular chains shared by all services.
SERVICES = "services"  # VIP and NodePort dispatch (verdict maps)
NO_ENDPOINTS = "no-endpoints"  # services without ready endpoints -> REJECT
REJECT = "reject"  # tcp reset / icmp port-unreachable
MARK_FOR_MASQUERADE = "mark-for-masquerade"
MASQUERADING = "masquerading"

# Maps and sets shared by all services.
SERVICE_IPS = "service-ips"  # VIP . l4proto . port : goto service chain
SERVICE_NODEPORTS = "service-nodeports"  # l4proto . nodePort : goto external chain
NO_ENDPOINT_SERVICES = "no-endpoint-services"  # VIP . l4proto . port
NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports"  # l4proto . nodePort
NODE_IPS = "node-ips"  # addresses a NodePort answers on
HAIRPIN = "hairpin"  # endpoint IP . same IP: a pod reached itself through a Service

MASQUERADE_MARK = 0x4000

# Per-service object name prefixes.
SERVICE_CHAIN_PREFIX = "svc"
EXTERNAL_CHAIN_PREFIX = "ext"
ENDPOINT_CHAIN_PREFIX = "ep"
AFFINITY_SET_PREFIX = "aff"

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


def external_chain(identity: str) -> str:
    return f"{EXTERNAL_CHAIN_PREFIX}-{identity}"


def endpoint_chain(identity: str, ip: str, port: int) -> str:
    return f"{ENDPOINT_CHAIN_PREFIX}-{identity}__{ip}/{port}"


def affinity_set(identity: str, ip: str, port: int, timeout: int) -> str:
    """The timeout is part of the name: changing it makes a new set, not an edited one."""
    return f"{AFFINITY_SET_PREFIX}-{identity}__{ip}/{port}/{timeout}s"
