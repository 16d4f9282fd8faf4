"""TaintToleration: NoSchedule/NoExecute repel, PreferNoSchedule scores."""
from tests.scheduler.builders import Cluster, node, pod

GPU = {"key": "gpu", "value": "true", "effect": "NoSchedule"}


def test_a_taint_repels_pods_without_a_toleration():
    cluster = Cluster([node("tainted", taints=[GPU]), node("other", cpu="1")])
    assert cluster.why(pod("p", cpu="2")) == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {gpu: true}.")


def test_tolerations_equal_and_exists():
    cluster = Cluster([node("tainted", taints=[GPU])])
    assert cluster.decide(pod("eq", tolerations=[{"key": "gpu", "operator": "Equal", "value": "true",
                                                  "effect": "NoSchedule"}])).node == "tainted"
    assert cluster.decide(pod("ex", tolerations=[{"key": "gpu", "operator": "Exists"}])).node == "tainted"
    assert cluster.decide(pod("all", tolerations=[{"operator": "Exists"}])).node == "tainted"
    assert not cluster.decide(pod("wrong-value", tolerations=[{"key": "gpu", "value": "false"}])).node
    assert not cluster.decide(pod("wrong-effect", tolerations=[{"key": "gpu", "operator": "Exists",
                                                                "effect": "NoExecute"}])).node


def test_no_execute_repels_and_toleration_seconds_are_kept():
    cluster = Cluster([node("n", taints=[{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}])])
    assert "untolerated taint {node.kubernetes.io/unreachable: }" in cluster.why(pod("p"))
    tolerating = pod("q", tolerations=[{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                        "effect": "NoExecute", "toleration_seconds": 300}])
    assert cluster.decide(tolerating).node == "n"
    assert tolerating.spec.tolerations[0].toleration_seconds == 300


def test_prefer_no_schedule_only_scores():
    soft = {"key": "spot", "value": "yes", "effect": "PreferNoSchedule"}
    cluster = Cluster([node("spot", taints=[soft]), node("plain")])
    assert {cluster.decide(pod(f"p{i}")).node for i in range(5)} == {"plain"}
    only = Cluster([node("spot", taints=[soft])])
    assert only.decide(pod("p")).node == "spot"


def test_nodes_with_different_taints_are_reported_apart():
    cluster = Cluster([node("a", taints=[GPU]), node("b", taints=[{"key": "team", "value": "x",
                                                                  "effect": "NoSchedule"}])])
    assert cluster.why(pod("p")) == ("0/2 nodes are available: 1 node(s) had untolerated taint {gpu: true}, "
                                     "1 node(s) had untolerated taint {team: x}.")
