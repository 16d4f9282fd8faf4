"""From API objects to the proxy's model: pure functions over the protobuf messages.

A Service becomes one ServicePortInfo per port (headless and ExternalName
Services and ones without an allocated address program nothing; NodePort and
LoadBalancer ones add their node ports, LoadBalancer ones the addresses in
their status); an Endpoints object becomes the endpoints of each named port,
each marked whether it runs on this node (for externalTrafficPolicy Local). The endpoints controller has already turned
a named targetPort into each pod's number, so the Endpoints port is the one
to DNAT to, matched to the Service port by name.
"""
from __future__ import annotations

import ipaddress

from controlplane.api.v1 import core_pb2
from controlplane.api.wellknown import EXTERNAL_SERVICE_TYPES

from agent.proxy.model import PROTOCOLS, Endpoint, ServicePortInfo, ServicePortName

DEFAULT_AFFINITY_TIMEOUT = 10800  # Kubernetes' default for sessionAffinity ClientIP: 3 hours


def _is_ipv4(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).version == 4
    except ValueError:
        return False


def service_ports(svc: core_pb2.Service) -> dict[ServicePortName, ServicePortInfo]:
    spec = svc.spec
    if not _is_ipv4(spec.cluster_ip):  # "None" (headless), not yet allocated, or IPv6 (not proxied)
        return {}
    affinity = 0
    if spec.session_affinity == "ClientIP":
        client_ip = spec.session_affinity_config.client_ip
        affinity = client_ip.timeout_seconds if client_ip.HasField("timeout_seconds") else DEFAULT_AFFINITY_TIMEOUT
    external = spec.type in EXTERNAL_SERVICE_TYPES
    # Every address a load balancer answers on, whichever implementation wrote it (as kube-proxy does):
    # coxswain's own service controller writes the Ready nodes' addresses (ServiceLB's way).
    lb_ips = tuple(sorted({i.ip for i in svc.status.load_balancer.ingress if _is_ipv4(i.ip)})) \
        if spec.type == "LoadBalancer" else ()
    ports = {}
    for port in spec.ports:
        protocol = (port.protocol or "TCP").lower()
        if protocol not in PROTOCOLS:  # SCTP: the API server refuses it; never program a half
            continue
        ports[ServicePortName(svc.metadata.namespace, svc.metadata.name, port.name)] = ServicePortInfo(
            cluster_ip=spec.cluster_ip, port=port.port, protocol=protocol,
            node_port=port.node_port if external else 0, affinity_timeout=affinity, load_balancer_ips=lb_ips,
            external_local=external and spec.external_traffic_policy == "Local",
            health_check_node_port=spec.health_check_node_port if spec.type == "LoadBalancer" else 0)
    return ports


def endpoints_by_port(eps: core_pb2.Endpoints, *, node_name: str) -> dict[ServicePortName, tuple[Endpoint, ...]]:
    """node_name: this node's, to tell which endpoints are local."""
    found: dict[ServicePortName, list[Endpoint]] = {}
    for subset in eps.subsets:
        for port in subset.ports:
            name = ServicePortName(eps.metadata.namespace, eps.metadata.name, port.name)
            found.setdefault(name, []).extend(
                Endpoint(a.ip, port.port, ready=ready, local=a.node_name == node_name, uid=a.target_ref.uid)
                for addresses, ready in ((subset.addresses, True), (subset.not_ready_addresses, False))
                for a in addresses if _is_ipv4(a.ip))
    return {name: tuple(endpoints) for name, endpoints in found.items()}


def node_ips(node: core_pb2.Node) -> frozenset[str]:
    """The addresses NodePorts answer on: the node's IPv4 InternalIP and ExternalIP addresses."""
    return frozenset(a.address for a in node.status.addresses
                     if a.type in ("InternalIP", "ExternalIP") and _is_ipv4(a.address))
