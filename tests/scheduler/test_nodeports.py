"""NodePorts: host ports conflict by protocol, port and host IP."""
from controlplane.scheduler.plugins.nodeports import conflicts
from tests.scheduler.builders import Cluster, node, pod


def _with_port(name, port, *, protocol="TCP", host_ip=""):
    return pod(name, ports=[{"container_port": 80, "host_port": port, "protocol": protocol, "host_ip": host_ip}])


def test_a_taken_host_port_sends_the_pod_elsewhere():
    cluster = Cluster([node("a"), node("b")])
    cluster.place(_with_port("x", 8080), "a")
    assert cluster.decide(_with_port("p", 8080)).node == "b"
    cluster.place(_with_port("y", 8080), "b")
    assert cluster.why(_with_port("q", 8080)) == (
        "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports.")
    assert cluster.decide(_with_port("udp", 8080, protocol="UDP")).node in ("a", "b")
    cluster.cache.remove_pod(("default", "y"))
    assert cluster.decide(_with_port("q", 8080)).node == "b"


def test_conflict_rules():
    assert conflicts(("0.0.0.0", "TCP", 80), ("10.0.0.1", "TCP", 80))
    assert conflicts(("10.0.0.1", "TCP", 80), ("10.0.0.1", "TCP", 80))
    assert not conflicts(("10.0.0.1", "TCP", 80), ("10.0.0.2", "TCP", 80))
    assert not conflicts(("0.0.0.0", "TCP", 80), ("0.0.0.0", "UDP", 80))
    assert not conflicts(("0.0.0.0", "TCP", 80), ("0.0.0.0", "TCP", 81))
