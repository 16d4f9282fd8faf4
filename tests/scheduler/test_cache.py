"""The cache: assumed pods, confirmation, nodes coming and going, match counts."""
import numpy as np

from controlplane.api.selectors import parse_label_selector
from controlplane.scheduler.cache import Cache
from controlplane.scheduler.framework import Action
from tests.scheduler.builders import info, node, pod


def _requested(cache, name):
    row = cache.nodes.row_of[name]
    return int(cache.nodes.req_cpu[row]), int(cache.nodes.req_pods[row])


def test_assume_counts_now_and_forget_undoes_it():
    cache = Cache()
    cache.set_node(node("n"))
    p = info(pod("p", cpu="500m"))
    cache.assume(p, "n")
    assert cache.is_assumed(p.key) and _requested(cache, "n") == (500, 1)
    cache.forget(p.key)
    assert not cache.is_assumed(p.key) and _requested(cache, "n") == (0, 0)


def test_the_informers_copy_confirms_without_counting_twice():
    cache = Cache()
    cache.set_node(node("n"))
    message = pod("p", cpu="500m")
    cache.assume(info(message), "n")
    message.spec.node_name = "n"
    cache.set_pod(info(message))
    assert not cache.is_assumed(("default", "p")) and _requested(cache, "n") == (500, 1)
    cache.forget(("default", "p"))   # too late to forget a confirmed pod
    assert _requested(cache, "n") == (500, 1)


def test_pods_outlive_their_node_and_count_again_when_it_returns():
    cache = Cache()
    cache.set_node(node("a"))
    cache.set_node(node("b"))
    cache.set_pod(info(pod("p", cpu="1", node_name="a")))
    cache.remove_node("a")
    assert cache.nodes.names == ["b"]
    assert cache.set_node(node("a")) == Action.ADD
    assert _requested(cache, "a") == (1000, 1)


def test_removing_a_node_moves_the_last_row_intact():
    cache = Cache()
    for name, zone in (("a", "z1"), ("b", "z2"), ("c", "z3")):
        cache.set_node(node(name, labels={"zone": zone}))
    cache.set_pod(info(pod("p", cpu="2", node_name="c")))
    cache.nodes.codes("zone")
    cache.remove_node("a")
    row = cache.nodes.row_of["c"]
    assert cache.nodes.req_cpu[row] == 2000
    assert cache.nodes.codes("zone")[row] == cache.nodes.code_of("zone", "z3")


def test_node_updates_report_what_changed():
    cache = Cache()
    cache.set_node(node("n", labels={"a": "1"}))
    assert cache.set_node(node("n", labels={"a": "1"})) is None
    assert cache.set_node(node("n", labels={"a": "2"})) == Action.UPDATE_LABELS
    changed = cache.set_node(node("n", labels={"a": "2"}, cpu="8", unschedulable=True))
    assert changed == Action.UPDATE_ALLOCATABLE | Action.UPDATE_UNSCHEDULABLE


def test_match_counts_follow_pods():
    cache = Cache()
    cache.set_node(node("a"))
    cache.set_node(node("b"))
    selector = parse_label_selector("app=web")
    ns = frozenset({"default"})
    cache.set_pod(info(pod("w0", labels={"app": "web"}, node_name="a")))
    counts = cache.match_counts(ns, selector)
    assert counts.tolist() == [1, 0]
    cache.assume(info(pod("w1", labels={"app": "web"})), "b")
    cache.assume(info(pod("other", labels={"app": "db"})), "b")
    cache.assume(info(pod("w2", namespace="elsewhere", labels={"app": "web"})), "b")
    assert cache.match_counts(ns, selector).tolist() == [1, 1]
    assert cache.match_counts(None, selector).tolist() == [1, 2]
    cache.remove_pod(("default", "w0"))
    assert cache.match_counts(ns, selector).tolist() == [0, 1]
    set_based = parse_label_selector("app in (web,db)")
    assert cache.match_counts(ns, set_based).tolist() == [0, 2]
    assert np.array_equal(cache.match_counts(ns, parse_label_selector("!tier")), [0, 2])


def test_nominated_usage_only_counts_pods_of_at_least_this_priority():
    cache = Cache()
    cache.set_node(node("n"))
    high = info(pod("high", cpu="1", priority=100))
    high.nominated_node_name = "n"
    cache.set_nominated(high)
    assert cache.nominated_usage(info(pod("low", priority=10)))[0].tolist() == [1000]
    assert cache.nominated_usage(info(pod("higher", priority=1000))) is None
    cache.clear_nominated(high.key)
    assert cache.nominated_usage(info(pod("low", priority=10))) is None


def test_confirm_keeps_the_assumed_copy_only_when_it_matches():
    cache = Cache()
    cache.set_node(node("a"))
    cache.set_node(node("b"))
    message = pod("p", cpu="1", labels={"app": "web"})
    cache.assume(info(message), "a")
    elsewhere = type(message)()
    elsewhere.CopyFrom(message)
    elsewhere.spec.node_name = "b"
    assert not cache.confirm(elsewhere)          # bound somewhere else: parse it as a new pod
    message.spec.node_name = "a"
    assert cache.confirm(message)
    assert not cache.is_assumed(("default", "p")) and cache.placed(("default", "p")).pod is message
    assert _requested(cache, "a") == (1000, 1) and _requested(cache, "b") == (0, 0)
    assert not cache.confirm(message)            # nothing assumed any more
