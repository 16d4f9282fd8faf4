"""Services and Endpoints: ports, virtual IPs, traffic policies.

kube-proxy renders these straight into nftables rules, so every port, IP and
policy is checked here; what coxswain does not implement (SCTP, a change of
type to or from ExternalName) is rejected by value rather than half-working.
Fields that belong to one type (externalName, loadBalancerClass, node ports)
are refused on the others by name, as Kubernetes does.
"""
from controlplane.api import names
from controlplane.api.errors import FieldError
from controlplane.api.wellknown import EXTERNAL_SERVICE_TYPES
from controlplane.api.validation import meta
from controlplane.api.validation.common import (Errors, between, duplicate, immutable, int_or_string_port,
                                                ip_address, labels, one_of, port_number,
                                                required_syntax, syntax)

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
EXTERNAL_TYPES = EXTERNAL_SERVICE_TYPES  # the types that answer on node addresses
NODE_PORT_RANGE = (30000, 32767)
PROTOCOLS = ("TCP", "UDP")
TRAFFIC_POLICIES = ("Cluster", "Local")
CLIENT_IP_TIMEOUT_MAX = 86400


def validate_service(service) -> Errors:
    spec = service.spec
    yield from meta.object_meta(service, names.dns1035_label)
    yield from one_of("spec.type", spec.type, SERVICE_TYPES)
    headless = spec.cluster_ip == "None"
    if not spec.ports and not headless and spec.type != "ExternalName":
        yield FieldError("spec.ports", "required")
    yield from _service_ports("spec.ports", spec.ports, node_ports=spec.type in EXTERNAL_TYPES)
    yield from _cluster_ips(spec)
    yield from _external_name(spec)
    yield from _load_balancer(spec)
    yield from labels("spec.selector", spec.selector)
    yield from one_of("spec.sessionAffinity", spec.session_affinity, ("None", "ClientIP"))
    if spec.HasField("session_affinity_config"):
        if spec.session_affinity != "ClientIP":
            yield FieldError("spec.sessionAffinityConfig", "must not be set when `sessionAffinity` is not ClientIP")
        timeout = spec.session_affinity_config.client_ip
        if timeout.HasField("timeout_seconds"):
            yield from between("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout.timeout_seconds,
                               1, CLIENT_IP_TIMEOUT_MAX)
    yield from one_of("spec.externalTrafficPolicy", spec.external_traffic_policy, TRAFFIC_POLICIES)
    if spec.external_traffic_policy and spec.type not in EXTERNAL_TYPES:
        yield FieldError("spec.externalTrafficPolicy", "may only be set when `type` is 'NodePort' or 'LoadBalancer'")
    if spec.health_check_node_port:
        if spec.type != "LoadBalancer" or spec.external_traffic_policy != "Local":
            yield FieldError("spec.healthCheckNodePort",
                             "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'")
        yield from between("spec.healthCheckNodePort", spec.health_check_node_port, *NODE_PORT_RANGE)
    yield from one_of("spec.internalTrafficPolicy", spec.internal_traffic_policy, TRAFFIC_POLICIES)
    for index, address in enumerate(spec.external_ips):
        yield from ip_address(f"spec.externalIPs[{index}]", address)
    for index, family in enumerate(spec.ip_families):
        yield from one_of(f"spec.ipFamilies[{index}]", family, ("IPv4", "IPv6"))
    yield from one_of("spec.ipFamilyPolicy", spec.ip_family_policy,
                      ("SingleStack", "PreferDualStack", "RequireDualStack"))


def _service_ports(path: str, ports, *, node_ports: bool) -> Errors:
    names_seen, ports_seen, node_ports_seen = set(), set(), set()
    for index, port in enumerate(ports):
        here = f"{path}[{index}]"
        if len(ports) > 1 and not port.name:
            yield FieldError(f"{here}.name", "required when the service has more than one port")
        elif port.name:
            yield from syntax(f"{here}.name", port.name, names.dns_label)
            yield from duplicate(f"{here}.name", port.name, names_seen)
        yield from port_number(f"{here}.port", port.port)
        yield from one_of(f"{here}.protocol", port.protocol, PROTOCOLS)
        yield from duplicate(here, f"{port.port}/{port.protocol or 'TCP'}", ports_seen, "port")
        if port.HasField("target_port"):
            yield from int_or_string_port(f"{here}.targetPort", port.target_port)
        if port.node_port:
            if not node_ports:
                yield FieldError(f"{here}.nodePort", "may only be set when `type` is 'NodePort' or 'LoadBalancer'")
            yield from between(f"{here}.nodePort", port.node_port, *NODE_PORT_RANGE)
            yield from duplicate(f"{here}.nodePort", f"{port.node_port}/{port.protocol or 'TCP'}",
                                 node_ports_seen, "nodePort")


def _cluster_ips(spec) -> Errors:
    if spec.cluster_ip == "None":
        if spec.type not in ("", "ClusterIP"):
            yield FieldError("spec.clusterIP", "may only be 'None' (headless) when `type` is 'ClusterIP'")
    elif spec.cluster_ip:
        yield from ip_address("spec.clusterIP", spec.cluster_ip)
    if spec.cluster_ips and spec.cluster_ip and spec.cluster_ips[0] != spec.cluster_ip:
        yield FieldError("spec.clusterIPs[0]", "must match `clusterIP`")
    for index, address in enumerate(spec.cluster_ips):
        if address != "None":
            yield from ip_address(f"spec.clusterIPs[{index}]", address)


def _external_name(spec) -> Errors:
    """An ExternalName Service is only a DNS alias: a name, no virtual IP."""
    if spec.type != "ExternalName":
        return
    yield from required_syntax("spec.externalName", spec.external_name.rstrip("."), names.dns_subdomain)
    if spec.cluster_ip or spec.cluster_ips:
        yield FieldError("spec.clusterIP", "may not be set when `type` is 'ExternalName'")


def _load_balancer(spec) -> Errors:
    if spec.type != "LoadBalancer":
        if spec.load_balancer_class:
            yield FieldError("spec.loadBalancerClass", "may only be set when `type` is 'LoadBalancer'")
        if spec.HasField("allocate_load_balancer_node_ports"):
            yield FieldError("spec.allocateLoadBalancerNodePorts", "may only be set when `type` is 'LoadBalancer'")
    elif spec.load_balancer_class:
        yield from syntax("spec.loadBalancerClass", spec.load_balancer_class, names.qualified_name)


def service_update_rules(new, old) -> Errors:
    if old.spec.cluster_ip and new.spec.cluster_ip != old.spec.cluster_ip:
        yield FieldError("spec.clusterIP", "field is immutable")
    if (new.spec.type == "ExternalName") != (old.spec.type == "ExternalName"):
        yield FieldError("spec.type", f"may not change from {old.spec.type!r} to {new.spec.type!r}: "
                                      "delete the Service and create it again")
    if old.spec.type == "LoadBalancer" and new.spec.type == "LoadBalancer":
        yield from immutable("spec.loadBalancerClass", new.spec.load_balancer_class, old.spec.load_balancer_class)


# ---------------------------------------------------------------- Endpoints

def validate_endpoints(endpoints) -> Errors:
    yield from meta.object_meta(endpoints, names.dns_subdomain)
    for index, subset in enumerate(endpoints.subsets):
        path = f"subsets[{index}]"
        for field, json_name in (("addresses", "addresses"), ("not_ready_addresses", "notReadyAddresses")):
            for position, address in enumerate(getattr(subset, field)):
                here = f"{path}.{json_name}[{position}]"
                if not address.ip:
                    yield FieldError(f"{here}.ip", "required")
                else:
                    yield from ip_address(f"{here}.ip", address.ip)
                if address.node_name:
                    yield from syntax(f"{here}.nodeName", address.node_name, names.dns_subdomain)
        for position, port in enumerate(subset.ports):
            here = f"{path}.ports[{position}]"
            if len(subset.ports) > 1:
                yield from required_syntax(f"{here}.name", port.name, names.dns_label)
            elif port.name:
                yield from syntax(f"{here}.name", port.name, names.dns_label)
            yield from port_number(f"{here}.port", port.port)
            yield from one_of(f"{here}.protocol", port.protocol, PROTOCOLS)
