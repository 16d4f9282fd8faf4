"""API objects to the proxy's model, no kernel."""
from controlplane.api.kinds import KINDS

from agent.proxy.adapter import DEFAULT_AFFINITY_TIMEOUT, endpoints_by_port, node_ips, service_ports
from agent.proxy.model import Endpoint, ServicePortInfo, ServicePortName


def service(**spec):
    return KINDS["Service"].new(metadata={"name": "web", "namespace": "shop"}, spec=spec)


def test_ports_of_a_cluster_ip_service():
    svc = service(cluster_ip="198.19.128.10", ports=[{"name": "http", "port": 80, "node_port": 30080},
                                                  {"name": "dns", "port": 53, "protocol": "UDP"}])
    assert service_ports(svc) == {
        ServicePortName("shop", "web", "http"): ServicePortInfo("198.19.128.10", 80, "tcp"),  # not a NodePort type
        ServicePortName("shop", "web", "dns"): ServicePortInfo("198.19.128.10", 53, "udp")}


def test_node_port_and_session_affinity():
    svc = service(type="NodePort", cluster_ip="198.19.128.10", session_affinity="ClientIP",
                  ports=[{"port": 80, "node_port": 30080}])
    assert service_ports(svc) == {ServicePortName("shop", "web"): ServicePortInfo(
        "198.19.128.10", 80, "tcp", node_port=30080, affinity_timeout=DEFAULT_AFFINITY_TIMEOUT)}
    svc.spec.session_affinity_config.client_ip.timeout_seconds = 60
    assert service_ports(svc)[ServicePortName("shop", "web")].affinity_timeout == 60


def test_headless_and_unallocated_services_program_nothing():
    assert service_ports(service(cluster_ip="None", ports=[{"port": 80}])) == {}
    assert service_ports(service(ports=[{"port": 80}])) == {}


def test_load_balancer_ports_addresses_and_local_policy():
    """kubectl's `create service loadbalancer`, once allocated and given ingress by the service
    controller: the node port, the ingress addresses (IPv4 only, sorted), the Local policy."""
    svc = service(type="LoadBalancer", cluster_ip="198.19.128.10", external_traffic_policy="Local",
                  ports=[{"name": "80-8080", "port": 80, "node_port": 30080}])
    svc.status.load_balancer.ingress.add(ip="198.18.0.12")
    svc.status.load_balancer.ingress.add(ip="198.18.0.11")
    svc.status.load_balancer.ingress.add(hostname="lb.example.com")
    assert service_ports(svc) == {ServicePortName("shop", "web", "80-8080"): ServicePortInfo(
        "198.19.128.10", 80, "tcp", node_port=30080, load_balancer_ips=("198.18.0.11", "198.18.0.12"),
        external_local=True)}
    svc.spec.type = "ClusterIP"  # ingress left from its LoadBalancer days programs nothing
    assert service_ports(svc)[ServicePortName("shop", "web", "80-8080")] == ServicePortInfo("198.19.128.10", 80)


def test_external_name_programs_nothing():
    assert service_ports(service(type="ExternalName", external_name="db.example.com", ports=[{"port": 80}])) == {}


def test_endpoints_by_named_port_with_readiness_and_locality():
    eps = KINDS["Endpoints"].new(metadata={"name": "web", "namespace": "shop"}, subsets=[
        {"addresses": [{"ip": "198.19.0.2", "node_name": "n1"}], "not_ready_addresses": [{"ip": "198.19.0.3"}],
         "ports": [{"name": "http", "port": 8080}, {"name": "metrics", "port": 9100}]},
        {"addresses": [{"ip": "198.19.1.2", "node_name": "n2"}], "ports": [{"name": "http", "port": 8081}]}])
    assert endpoints_by_port(eps, node_name="n1") == {
        ServicePortName("shop", "web", "http"): (Endpoint("198.19.0.2", 8080, local=True),
                                                 Endpoint("198.19.0.3", 8080, False), Endpoint("198.19.1.2", 8081)),
        ServicePortName("shop", "web", "metrics"): (Endpoint("198.19.0.2", 9100, local=True),
                                                    Endpoint("198.19.0.3", 9100, False))}


def test_node_addresses():
    node = KINDS["Node"].new(metadata={"name": "n1"}, status={"addresses": [
        {"type": "InternalIP", "address": "198.18.0.11"}, {"type": "Hostname", "address": "n1"},
        {"type": "InternalIP", "address": "fd00::1"}]})
    assert node_ips(node) == {"198.18.0.11"}
