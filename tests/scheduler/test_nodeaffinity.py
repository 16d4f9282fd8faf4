"""NodeAffinity (nodeSelector, required and preferred terms), NodeName and NodeUnschedulable."""
import pytest

from tests.scheduler.builders import Cluster, node, pod

NODES = [node("a", labels={"zone": "z1", "disk": "ssd", "gen": "3"}),
         node("b", labels={"zone": "z2", "gen": "5"}),
         node("c", labels={"zone": "z3"})]


def _required(*expressions, fields=()):
    return {"node_affinity": {"required_during_scheduling_ignored_during_execution": {
        "node_selector_terms": [{"match_expressions": list(expressions), "match_fields": list(fields)}]}}}


def _placeable(cluster, message) -> set:
    decision = cluster.decide(message)
    if not decision.node:
        return set()
    return {n for n in "abc" if _fits_on(cluster, message, n)}


def _fits_on(cluster, message, name):
    from controlplane.scheduler.framework import CycleState
    from tests.scheduler.builders import info
    rows = cluster.framework.feasible_rows(CycleState(), info(message), cluster.cache.nodes)
    return cluster.cache.nodes.row_of[name] in set(rows.tolist())


def test_node_selector():
    cluster = Cluster(NODES)
    assert _placeable(cluster, pod("p", node_selector={"disk": "ssd"})) == {"a"}
    assert cluster.why(pod("q", node_selector={"disk": "hdd"})) == (
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.")


@pytest.mark.parametrize("expression,expected", [
    ({"key": "zone", "operator": "In", "values": ["z1", "z3"]}, {"a", "c"}),
    ({"key": "zone", "operator": "NotIn", "values": ["z1"]}, {"b", "c"}),
    ({"key": "disk", "operator": "NotIn", "values": ["ssd"]}, {"b", "c"}),   # absent label: NotIn holds
    ({"key": "disk", "operator": "Exists"}, {"a"}),
    ({"key": "disk", "operator": "DoesNotExist"}, {"b", "c"}),
    ({"key": "gen", "operator": "Gt", "values": ["3"]}, {"b"}),
    ({"key": "gen", "operator": "Lt", "values": ["4"]}, {"a"}),
])
def test_match_expressions(expression, expected):
    assert _placeable(Cluster(NODES), pod("p", affinity=_required(expression))) == expected


def test_terms_are_ored_and_expressions_anded():
    affinity = {"node_affinity": {"required_during_scheduling_ignored_during_execution": {"node_selector_terms": [
        {"match_expressions": [{"key": "zone", "operator": "In", "values": ["z1"]},
                               {"key": "disk", "operator": "DoesNotExist"}]},
        {"match_expressions": [{"key": "zone", "operator": "In", "values": ["z3"]}]}]}}}
    assert _placeable(Cluster(NODES), pod("p", affinity=affinity)) == {"c"}


def test_match_fields_on_the_node_name():
    field = {"key": "metadata.name", "operator": "In", "values": ["b"]}
    assert _placeable(Cluster(NODES), pod("p", affinity=_required(fields=[field]))) == {"b"}


def test_preferred_terms_weigh_in():
    affinity = {"node_affinity": {"preferred_during_scheduling_ignored_during_execution": [
        {"weight": 10, "preference": {"match_expressions": [{"key": "zone", "operator": "In", "values": ["z2"]}]}},
        {"weight": 1, "preference": {"match_expressions": [{"key": "zone", "operator": "In", "values": ["z3"]}]}}]}}
    cluster = Cluster(NODES)
    assert {cluster.decide(pod(f"p{i}", affinity=affinity)).node for i in range(5)} == {"b"}


def test_label_changes_are_seen():
    cluster = Cluster(NODES)
    assert not cluster.decide(pod("p", node_selector={"disk": "nvme"})).node
    cluster.cache.set_node(node("c", labels={"zone": "z3", "disk": "nvme"}))
    assert cluster.decide(pod("p", node_selector={"disk": "nvme"})).node == "c"


def test_node_name():
    cluster = Cluster(NODES)
    assert cluster.decide(pod("p", node_name="b")).node == "b"
    assert cluster.why(pod("q", node_name="zz")) == (
        "0/3 nodes are available: 3 node(s) didn't match the requested node name.")


def test_cordoned_nodes_take_no_pods_unless_tolerated():
    cluster = Cluster([node("a", unschedulable=True), node("b", unschedulable=True)])
    assert cluster.why(pod("p")) == "0/2 nodes are available: 2 node(s) were unschedulable."
    tolerant = pod("ds", tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                                       "effect": "NoSchedule"}])
    assert cluster.decide(tolerant).node in ("a", "b")
