"""DefaultPreemption's choice of node and victims (the evictions themselves: test_scheduler_api.py)."""
from controlplane.scheduler.framework import CycleState
from tests.scheduler.builders import Cluster, info, node, pod


def _preempt(cluster, message):
    pod_info = info(message)
    decision = cluster.framework.find_node(CycleState(), pod_info, cluster.cache.nodes)
    assert not decision.node
    plugin = cluster.framework.post_filters[0]
    return plugin.post_filter(CycleState(), pod_info, cluster.cache.nodes, decision.diagnosis)


def test_the_node_with_the_least_important_victims_is_nominated():
    cluster = Cluster([node("a", cpu="2"), node("b", cpu="2")])
    cluster.place(pod("a-low", cpu="1", priority=10), "a")
    cluster.place(pod("a-mid", cpu="1", priority=50), "a")
    cluster.place(pod("b-mid", cpu="1", priority=50), "b")
    cluster.place(pod("b-mid2", cpu="1", priority=50), "b")
    result = _preempt(cluster, pod("urgent", cpu="1", priority=100))
    assert result.nominated_node == "a"


def test_only_as_many_victims_as_needed():
    cluster = Cluster([node("n", cpu="3")])
    for i, priority in enumerate((1, 2, 3)):
        cluster.place(pod(f"v{i}", cpu="1", priority=priority), "n")
    plugin = cluster.framework.post_filters[0]
    victims = plugin._victims_on(info(pod("urgent", cpu="2", priority=100)), 0)
    assert sorted(v.name for v in victims) == ["v0", "v1"]


def test_equal_or_higher_priority_pods_are_never_victims():
    cluster = Cluster([node("n", cpu="1")])
    cluster.place(pod("peer", cpu="1", priority=100), "n")
    result = _preempt(cluster, pod("urgent", cpu="1", priority=100))
    assert not result.nominated_node
    assert result.message == "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."


def test_preemption_does_not_help_against_taints():
    cluster = Cluster([node("n", cpu="1", taints=[{"key": "k", "value": "v", "effect": "NoSchedule"}])])
    cluster.place(pod("low", cpu="1", priority=0), "n")
    result = _preempt(cluster, pod("urgent", cpu="1", priority=100))
    assert result.message == "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."


def test_preemption_policy_never():
    cluster = Cluster([node("n", cpu="1")])
    cluster.place(pod("low", cpu="1", priority=0), "n")
    result = _preempt(cluster, pod("polite", cpu="1", priority=100, preemption_policy="Never"))
    assert result.message == "preemption: not eligible due to preemptionPolicy=Never."


def test_the_nominated_room_is_held_against_lower_priority_pods():
    cluster = Cluster([node("n", cpu="2")])
    cluster.place(pod("low", cpu="2", priority=0), "n")
    urgent = info(pod("urgent", cpu="2", priority=100))
    urgent.nominated_node_name = "n"
    cluster.cache.set_nominated(urgent)
    cluster.cache.remove_pod(("default", "low"))          # the victim is gone
    assert "Insufficient cpu" in cluster.why(pod("sneaky", cpu="1", priority=0))
    assert cluster.decide(pod("urgent", cpu="2", priority=100)).node == "n"
