"""What the pod network wants, from Nodes (pure)."""
from controlplane.api.kinds import KINDS

from agent.network import masquerade
from agent.network.model import NodeRoute, desired_routes, gateway_of, node_route


def node(name, pod_cidr="", ip=""):
    return KINDS["Node"].new(metadata={"name": name}, spec={"pod_cidr": pod_cidr},
                             status={"addresses": [{"type": "Hostname", "address": name}]
                                     + ([{"type": "InternalIP", "address": ip}] if ip else [])})


def test_node_route_takes_pod_cidr_and_ipv4_internal_ip():
    assert node_route(node("a", "198.19.1.0/24", "198.18.0.11")) == NodeRoute("198.19.1.0/24", "198.18.0.11")
    assert node_route(node("a")) == NodeRoute("", "")
    assert node_route(node("a", "not-a-cidr", "2001:db8::1")) == NodeRoute("", "")


def test_routes_go_to_every_other_complete_node():
    nodes = {"n1": NodeRoute("198.19.1.0/24", "198.18.0.11"), "n2": NodeRoute("198.19.2.0/24", "198.18.0.12"),
             "n3": NodeRoute("198.19.3.0/24", ""), "n4": NodeRoute("", "198.18.0.14")}
    assert desired_routes(nodes, own_name="n1") == {"198.19.2.0/24": "198.18.0.12"}


def test_no_route_ever_shadows_the_own_pod_cidr():
    nodes = {"n1": NodeRoute("198.19.1.0/24", "198.18.0.11"), "n2": NodeRoute("198.19.1.0/24", "198.18.0.12")}
    assert desired_routes(nodes, own_name="n1") == {}


def test_gateway_is_the_first_address():
    assert gateway_of("198.19.7.0/24") == "198.19.7.1"


def test_masquerade_covers_traffic_leaving_the_cluster_cidr_only():
    commands = masquerade.render("198.19.0.0/16")
    rules = [c["add"]["rule"] for c in commands if "rule" in c.get("add", {})]
    assert len(rules) == 1
    saddr, daddr, verdict = rules[0]["expr"]
    cluster = {"prefix": {"addr": "198.19.0.0", "len": 16}}
    assert saddr["match"] == {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": cluster}
    assert daddr["match"] == {"op": "!=", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": cluster}
    assert verdict == {"masquerade": None}
    chain = next(c["add"]["chain"] for c in commands if "chain" in c.get("add", {}))
    assert (chain["hook"], chain["prio"], chain["type"]) == ("postrouting", 100, "nat")
