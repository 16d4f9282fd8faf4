"""PodTopologySpread: maxSkew per domain, DoNotSchedule filters, ScheduleAnyway scores."""
from collections import Counter

from tests.scheduler.builders import Cluster, node, pod

ZONES = {"a1": "za", "a2": "za", "b1": "zb", "c1": "zc"}


def _nodes(zones=ZONES):
    return [node(name, labels={"zone": zone}) for name, zone in zones.items()]


def _spread(key="zone", max_skew=1, when="DoNotSchedule", **extra):
    return [{"max_skew": max_skew, "topology_key": key, "when_unsatisfiable": when,
             "label_selector": {"match_labels": {"app": "web"}}, **extra}]


def test_zones_fill_evenly():
    cluster = Cluster(_nodes())
    placed = [cluster.schedule(pod(f"web-{i}", labels={"app": "web"}, topology_spread_constraints=_spread()))
              for i in range(9)]
    assert Counter(ZONES[n] for n in placed) == {"za": 3, "zb": 3, "zc": 3}


def test_skew_blocks_the_full_domain():
    cluster = Cluster(_nodes({"a1": "za", "b1": "zb"}))
    cluster.place(pod("w0", labels={"app": "web"}), "a1")
    cluster.place(pod("w1", labels={"app": "web"}), "a1")
    message = pod("web", labels={"app": "web"}, topology_spread_constraints=_spread(), cpu="1")
    assert cluster.decide(message).node == "b1"
    cluster.cache.set_node(node("b1", labels={"zone": "zb"}, cpu="0"))
    assert cluster.why(message) == ("0/2 nodes are available: 1 Insufficient cpu, "
                                    "1 node(s) didn't match pod topology spread constraints.")


def test_nodes_without_the_key_are_refused():
    cluster = Cluster(_nodes({"a1": "za"}) + [node("bare")])
    message = pod("web", labels={"app": "web"}, topology_spread_constraints=_spread())
    assert cluster.decide(message).node == "a1"
    cluster.cache.set_node(node("a1", labels={"zone": "za"}, unschedulable=True))
    assert cluster.why(message) == (
        "0/2 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label), "
        "1 node(s) were unschedulable.")


def test_min_domains_counts_missing_domains_as_empty():
    cluster = Cluster(_nodes({"a1": "za", "b1": "zb"}))
    cluster.place(pod("w0", labels={"app": "web"}), "a1")
    message = pod("web", labels={"app": "web"}, topology_spread_constraints=_spread(min_domains=3))
    # With only 2 of 3 wanted domains, the minimum is taken as 0: za (1 pod) would reach skew 2.
    assert cluster.decide(message).node == "b1"
    cluster.place(pod("w1", labels={"app": "web"}), "b1")
    assert "topology spread" in cluster.why(message)


def test_only_nodes_the_pod_may_use_count_as_domains():
    cluster = Cluster(_nodes({"a1": "za", "b1": "zb", "c1": "zc"}))
    cluster.cache.set_node(node("c1", labels={"zone": "zc", "tier": "batch"}))
    message = pod("web", labels={"app": "web"}, topology_spread_constraints=_spread(),
                  affinity={"node_affinity": {"required_during_scheduling_ignored_during_execution": {
                      "node_selector_terms": [{"match_expressions": [
                          {"key": "tier", "operator": "DoesNotExist"}]}]}}})
    placed = [cluster.schedule(message) for _ in range(4)]
    assert Counter(ZONES[n] for n in placed) == {"za": 2, "zb": 2}


def test_schedule_anyway_prefers_emptier_domains_but_never_refuses():
    cluster = Cluster(_nodes({"a1": "za", "b1": "zb"}))
    for i in range(3):
        cluster.place(pod(f"w{i}", labels={"app": "web"}), "a1")
    soft = pod("web", labels={"app": "web"}, topology_spread_constraints=_spread(when="ScheduleAnyway"))
    assert cluster.decide(soft).node == "b1"
    cluster.cache.set_node(node("b1", labels={"zone": "zb"}, unschedulable=True))
    assert cluster.decide(soft).node == "a1"


def test_match_label_keys_narrow_the_selector():
    cluster = Cluster(_nodes({"a1": "za", "b1": "zb"}))
    for i in range(2):
        cluster.place(pod(f"old{i}", labels={"app": "web", "rev": "1"}), "a1")
    new = pod("new", labels={"app": "web", "rev": "2"},
              topology_spread_constraints=_spread(match_label_keys=["rev"]))
    newer = pod("new2", labels={"app": "web", "rev": "2"}, topology_spread_constraints=_spread(match_label_keys=["rev"]))
    placed = {cluster.schedule(new), cluster.schedule(newer)}
    assert placed == {"a1", "b1"}   # the old revision's pods do not count
