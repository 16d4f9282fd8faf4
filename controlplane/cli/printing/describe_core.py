"""describe for nodes, services, endpoints, config maps, secrets and namespaces."""
from controlplane.api import nodeidentity, quantity
from controlplane.cli.printing.age import since
from controlplane.cli.printing.columns import credential_expiry, endpoint_addresses, map_selector_text, node_roles
from controlplane.cli.printing.describe_pods import port_text
from controlplane.cli.printing.page import NONE, Page, timestamp

_SYSTEM_INFO = (("Machine ID", "machine_id"), ("System UUID", "system_uuid"), ("Boot ID", "boot_id"),
                ("Kernel Version", "kernel_version"), ("OS Image", "os_image"),
                ("Operating System", "operating_system"), ("Architecture", "architecture"),
                ("Container Runtime Version", "container_runtime_version"),
                ("Kubelet Version", "kubelet_version"), ("Kube-Proxy Version", "kube_proxy_version"))


def node(page: Page, node, related: dict, now: float) -> None:
    meta, spec, status = node.metadata, node.spec, node.status
    page.add("Name", meta.name)
    page.add("Roles", node_roles(node))
    page.mapping("Labels", meta.labels)
    page.mapping("Annotations", meta.annotations)
    page.add("CreationTimestamp", timestamp(meta.creation_timestamp))
    page.values("Taints", [f"{t.key}{'=' + t.value if t.value else ''}:{t.effect}" for t in spec.taints])
    page.add("Unschedulable", "true" if spec.unschedulable else "false")
    page.add("Conditions")
    page.table(["Type", "Status", "LastHeartbeatTime", "LastTransitionTime", "Reason", "Message"],
               [[c.type, c.status, timestamp(c.last_heartbeat_time), timestamp(c.last_transition_time),
                 c.reason, c.message] for c in status.conditions])
    page.add("Addresses")
    for address in status.addresses:
        page.add(address.type, address.address, level=1)
    for label, amounts in (("Capacity", status.capacity), ("Allocatable", status.allocatable)):
        page.add(label)
        for name in sorted(amounts):
            page.add(name, amounts[name], level=1)
    page.add("System Info")
    for label, field in _SYSTEM_INFO:
        page.add(label, getattr(status.node_info, field), level=1)
    page.add("PodCIDR", spec.pod_cidr)
    page.add("PodCIDRs", ",".join(spec.pod_cidrs))
    _identity(page, meta.name, related.get("credentials"), now)
    pods = [p for p in related.get("pods", ()) if p.status.phase not in ("Succeeded", "Failed")]
    page.add("Non-terminated Pods", f"({len(pods)} in total)")
    page.table(["Namespace", "Name", "CPU Requests", "Memory Requests", "Age"],
               [[p.metadata.namespace, p.metadata.name, _requests(p, "cpu"), _requests(p, "memory"),
                 since(p.metadata.creation_timestamp, now)] for p in pods])


def _identity(page: Page, node_name: str, credentials: list | None, now: float) -> None:
    """Which credential the node's agent uses: its newest approved NodeCredentialRequest."""
    if credentials is None:
        return
    current = nodeidentity.newest_approved(credentials).get(node_name)
    if current is None or current.status.expiration_timestamp.seconds <= now:
        page.add("Identity", f"{NONE} (no valid credential of its own: the agent has not bootstrapped)")
        return
    reason = next((c.reason for c in current.status.conditions if c.type == nodeidentity.APPROVED), "")
    page.add("Identity", f"{nodeidentity.user_name(node_name)} (group {nodeidentity.NODES_GROUP})")
    page.add("Credential", f"nodecredentialrequest/{current.metadata.name}, {reason}, requested by "
                           f"{current.spec.username}, expires in {credential_expiry(current, now)}", level=1)


def _requests(pod, resource: str) -> str:
    """The pod's total request of `resource` across its containers, as kubectl shows it."""
    amounts = [c.resources.requests[resource] for c in pod.spec.containers if resource in c.resources.requests]
    try:
        if resource == "cpu":
            return quantity.format_millicores(sum(quantity.millicores(a) for a in amounts))
        return quantity.format_bytes(sum(quantity.to_int(a) for a in amounts))
    except quantity.QuantityError:
        return "<invalid>"


def service(page: Page, svc, related: dict, now: float) -> None:
    spec = svc.spec
    page.metadata(svc, namespaced=True)
    page.add("Selector", map_selector_text(spec.selector))
    page.add("Type", spec.type)
    page.add("IP Family Policy", spec.ip_family_policy)
    page.add("IP Families", ",".join(spec.ip_families))
    page.add("IP", spec.cluster_ip)
    page.add("IPs", ",".join(spec.cluster_ips))
    if spec.external_ips:
        page.add("External IPs", ",".join(spec.external_ips))
    if spec.external_name:
        page.add("External Name", spec.external_name)
    if spec.load_balancer_class:
        page.add("LoadBalancer Class", spec.load_balancer_class)
    ingress = [i.ip or i.hostname for i in svc.status.load_balancer.ingress]
    if ingress:
        page.add("LoadBalancer Ingress", ", ".join(ingress))
    endpoints = next(iter(related.get("endpoints", ())), None)
    for port in spec.ports:
        name = port.name or "<unset>"
        protocol = port.protocol or "TCP"
        page.add("Port", f"{name}  {port.port}/{protocol}")
        page.add("TargetPort", f"{port_text(port.target_port)}/{protocol}")
        if port.node_port:
            page.add("NodePort", f"{name}  {port.node_port}/{protocol}")
        page.add("Endpoints", _port_endpoints(endpoints, port.name))
    page.add("Session Affinity", spec.session_affinity or "None")
    if spec.external_traffic_policy:
        page.add("External Traffic Policy", spec.external_traffic_policy)
    if spec.health_check_node_port:
        page.add("HealthCheck NodePort", str(spec.health_check_node_port))
    if spec.internal_traffic_policy:
        page.add("Internal Traffic Policy", spec.internal_traffic_policy)


def _port_endpoints(endpoints, port_name: str) -> str:
    """ip:port of the ready addresses serving the service port named `port_name`."""
    if endpoints is None:
        return ""
    found = [f"{address.ip}:{port.port}" for subset in endpoints.subsets for port in subset.ports
             if port.name == port_name for address in subset.addresses]
    return ",".join(found)


def endpoints(page: Page, ep, related: dict, now: float) -> None:
    page.metadata(ep, namespaced=True)
    page.add("Subsets")
    for subset in ep.subsets:
        page.add("Addresses", ",".join(a.ip for a in subset.addresses) or NONE, level=1)
        page.add("NotReadyAddresses", ",".join(a.ip for a in subset.not_ready_addresses) or NONE, level=1)
        page.add("Ports", level=1)
        page.table(["Name", "Port", "Protocol"],
                   [[p.name or "<unset>", str(p.port), p.protocol or "TCP"] for p in subset.ports], level=2)
    if not ep.subsets:
        page.text(endpoint_addresses(ep), level=1)


def config_map(page: Page, cm, related: dict, now: float) -> None:
    page.metadata(cm, namespaced=True)
    page.text("")
    page.text("Data")
    page.text("====")
    for key in sorted(cm.data):
        page.text(f"{key}:")
        page.text("----")
        page.text(cm.data[key])
    page.text("")
    page.text("BinaryData")
    page.text("====")
    for key in sorted(cm.binary_data):
        page.add(key, f"{len(cm.binary_data[key])} bytes")
    page.text("")


def secret(page: Page, secret, related: dict, now: float) -> None:
    page.metadata(secret, namespaced=True)
    page.text("")
    page.add("Type", secret.type)
    page.text("")
    page.text("Data")
    page.text("====")
    for key in sorted(secret.data):
        page.add(key, f"{len(secret.data[key])} bytes")


def namespace(page: Page, ns, related: dict, now: float) -> None:
    page.metadata(ns, namespaced=False)
    page.add("Status", ns.status.phase)
