"""What the proxy programs: Service ports, their endpoints and the node's addresses.

Small frozen values, so two states compare cheaply (unchanged services are
the same objects) and a renderer can take them without copying. adapter.py
fills them from API objects; tests and the benchmark build them directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, NamedTuple

PROTOCOLS = ("tcp", "udp")


class ServicePortName(NamedTuple):
    """One port of one Service: the unit the proxy programs. A tuple, not a dataclass: it is
    hashed tens of thousands of times per sync, and a tuple hashes in C."""

    namespace: str
    name: str
    port: str = ""  # the ServicePort's name; "" for a Service's single unnamed port

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" + (f":{self.port}" if self.port else "")


@dataclass(frozen=True)
class ServicePortInfo:
    cluster_ip: str
    port: int
    protocol: str = "tcp"  # "tcp" or "udp"
    node_port: int = 0  # 0: no node port (a NodePort or LoadBalancer Service's, which has one)
    affinity_timeout: int = 0  # seconds of ClientIP session affinity; 0: none
    load_balancer_ips: tuple[str, ...] = ()  # status.loadBalancer.ingress addresses: answer there too
    external_local: bool = False  # externalTrafficPolicy Local: outside traffic only to this node's endpoints
    health_check_node_port: int = 0  # where a load balancer asks whether this node has endpoints (healthcheck.py)

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol: {self.protocol!r} is not one of {PROTOCOLS}")


@dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int
    ready: bool = True
    local: bool = False  # on this node: the only ones externalTrafficPolicy Local sends outside traffic to
    uid: str = ""  # the pod's (its address's targetRef): what programmed.py records; rendering ignores it


@dataclass(frozen=True)
class ProxyState:
    """Everything the table is rendered from."""

    services: Mapping[ServicePortName, ServicePortInfo] = field(default_factory=dict)
    endpoints: Mapping[ServicePortName, tuple[Endpoint, ...]] = field(default_factory=dict)
    node_ips: frozenset[str] = frozenset()

    def ready_endpoints(self, name: ServicePortName) -> tuple[Endpoint, ...]:
        return tuple(ep for ep in self.endpoints.get(name, ()) if ep.ready)
