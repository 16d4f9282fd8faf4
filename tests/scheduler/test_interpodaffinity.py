"""InterPodAffinity: required and preferred, affinity and anti-affinity, both ways, per topology key."""
from tests.scheduler.builders import Cluster, node, pod

ZONES = {"a1": "za", "a2": "za", "b1": "zb", "b2": "zb"}


def _nodes():
    return [node(name, labels={"zone": zone}) for name, zone in ZONES.items()]


def _term(labels: dict, key: str, **extra):
    return {"label_selector": {"match_labels": labels}, "topology_key": key, **extra}


def _anti(labels, key="kubernetes.io/hostname"):
    return {"pod_anti_affinity": {"required_during_scheduling_ignored_during_execution": [_term(labels, key)]}}


def _affinity(labels, key="zone"):
    return {"pod_affinity": {"required_during_scheduling_ignored_during_execution": [_term(labels, key)]}}


def test_anti_affinity_spreads_replicas_one_per_node():
    cluster = Cluster(_nodes())
    placed = [cluster.schedule(pod(f"web-{i}", labels={"app": "web"}, affinity=_anti({"app": "web"})))
              for i in range(4)]
    assert sorted(placed) == sorted(ZONES)
    assert cluster.why(pod("web-4", labels={"app": "web"}, affinity=_anti({"app": "web"}))) == (
        "0/4 nodes are available: 4 node(s) didn't match pod anti-affinity rules.")


def test_existing_pods_anti_affinity_holds_the_other_way():
    cluster = Cluster(_nodes())
    cluster.place(pod("db", labels={"app": "db"}, affinity=_anti({"app": "web"}, "zone")), "a1")
    for i in range(4):
        assert ZONES[cluster.schedule(pod(f"web-{i}", labels={"app": "web"}))] == "zb"
    blocked = Cluster([node("a1", labels={"zone": "za"})])
    blocked.place(pod("db", labels={"app": "db"}, affinity=_anti({"app": "web"}, "zone")), "a1")
    assert blocked.why(pod("web", labels={"app": "web"})) == (
        "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules.")


def test_affinity_follows_the_selected_pods_zone():
    cluster = Cluster(_nodes())
    cluster.place(pod("cache", labels={"app": "cache"}), "b2")
    for i in range(3):
        assert ZONES[cluster.schedule(pod(f"web-{i}", affinity=_affinity({"app": "cache"})))] == "zb"


def test_affinity_with_no_match_anywhere():
    cluster = Cluster(_nodes())
    assert cluster.why(pod("web", affinity=_affinity({"app": "cache"}))) == (
        "0/4 nodes are available: 4 node(s) didn't match pod affinity rules.")


def test_the_first_of_a_self_selecting_group_may_start_it():
    cluster = Cluster(_nodes())
    first = cluster.schedule(pod("web-0", labels={"app": "web"}, affinity=_affinity({"app": "web"})))
    assert first
    for i in range(1, 4):
        node_name = cluster.schedule(pod(f"web-{i}", labels={"app": "web"}, affinity=_affinity({"app": "web"})))
        assert ZONES[node_name] == ZONES[first]


def test_namespaces_limit_what_a_term_sees():
    cluster = Cluster([node("n1"), node("n2")])
    cluster.place(pod("other-ns", namespace="team-b", labels={"app": "web"}), "n1")
    # Same labels in another namespace do not count against the default namespace...
    assert cluster.decide(pod("p", labels={"app": "web"}, affinity=_anti({"app": "web"}))).node in ("n1", "n2")
    # ...unless the term names that namespace.
    named = {"pod_anti_affinity": {"required_during_scheduling_ignored_during_execution": [
        _term({"app": "web"}, "kubernetes.io/hostname", namespaces=["team-b"])]}}
    assert cluster.decide(pod("q", labels={"app": "web"}, affinity=named)).node == "n2"


def test_preferred_affinity_and_anti_affinity_score():
    cluster = Cluster(_nodes())
    cluster.place(pod("cache", labels={"app": "cache"}), "a1")
    near = {"pod_affinity": {"preferred_during_scheduling_ignored_during_execution": [
        {"weight": 100, "pod_affinity_term": _term({"app": "cache"}, "zone")}]}}
    assert {ZONES[cluster.decide(pod(f"n{i}", affinity=near)).node] for i in range(6)} == {"za"}
    far = {"pod_anti_affinity": {"preferred_during_scheduling_ignored_during_execution": [
        {"weight": 100, "pod_affinity_term": _term({"app": "cache"}, "zone")}]}}
    assert {ZONES[cluster.decide(pod(f"f{i}", affinity=far)).node] for i in range(6)} == {"zb"}


def test_removing_a_pod_lifts_its_anti_affinity():
    cluster = Cluster([node("only")])
    web = pod("web-0", labels={"app": "web"}, affinity=_anti({"app": "web"}))
    cluster.place(web, "only")
    assert not cluster.decide(pod("web-1", labels={"app": "web"}, affinity=_anti({"app": "web"}))).node
    cluster.cache.remove_pod(("default", "web-0"))
    assert cluster.decide(pod("web-1", labels={"app": "web"}, affinity=_anti({"app": "web"}))).node == "only"
