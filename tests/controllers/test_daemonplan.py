"""DaemonSet rules (daemonplan.py), on objects built in memory: placement, the manage step, rolling updates,
status and what `cox rollout status` says."""
from google.protobuf import struct_pb2

from controlplane.api import defaults
from controlplane.api.kinds import KINDS
from controlplane.controllers import daemonplan
from tests.controllers.builders import NOW, pod
from tests.controllers.support import template


def daemon_set(*, surge=None, unavailable=None, strategy="RollingUpdate", min_ready=0, **spec):
    ds = KINDS["DaemonSet"].new(metadata={"name": "logs", "namespace": "default", "uid": "ds-uid", "generation": 1},
                                spec={"selector": {"match_labels": {"app": "logs"}},
                                      "template": template({"app": "logs"}, **spec),
                                      "update_strategy": {"type": strategy}, "min_ready_seconds": min_ready})
    for name, raw in (("max_surge", surge), ("max_unavailable", unavailable)):
        if raw is not None:
            getattr(ds.spec.update_strategy.rolling_update, name).CopyFrom(
                struct_pb2.Value(number_value=raw) if isinstance(raw, int) else struct_pb2.Value(string_value=raw))
    defaults.apply_defaults(ds)
    return ds


def node(name, labels=None, taints=(), unschedulable=False):
    return KINDS["Node"].new(metadata={"name": name, "labels": labels or {}},
                             spec={"taints": [dict(zip(("key", "value", "effect"), t)) for t in taints],
                                   "unschedulable": unschedulable})


def daemon(name, node_name, hash_, **kwargs):
    return pod(name, node=node_name, labels={"app": "logs", daemonplan.REVISION_HASH: hash_}, **kwargs)


NODES = [node("n1"), node("n2"), node("n3")]


# ---------------------------------------------------------------- placement

def test_node_selector_affinity_and_taints_decide_placement():
    ds = daemon_set(node_selector={"disk": "ssd"})
    assert daemonplan.placement(ds, node("a", {"disk": "ssd"})) == (True, True)
    assert daemonplan.placement(ds, node("b", {"disk": "hdd"})) == (False, False)
    ds = daemon_set(affinity={"node_affinity": {"required_during_scheduling_ignored_during_execution": {
        "node_selector_terms": [{"match_expressions": [{"key": "zone", "operator": "In", "values": ["x"]}]},
                                {"match_fields": [{"key": "metadata.name", "operator": "In", "values": ["c"]}]}]}}})
    assert [daemonplan.placement(ds, n)[0] for n in (node("a", {"zone": "x"}), node("b", {"zone": "y"}), node("c"))] \
        == [True, False, True]
    ds = daemon_set()
    assert daemonplan.placement(ds, node("a", taints=[("dedicated", "db", "NoSchedule")])) == (False, True)
    assert daemonplan.placement(ds, node("a", taints=[("dedicated", "db", "NoExecute")])) == (False, False)
    tolerant = daemon_set(tolerations=[{"key": "dedicated", "operator": "Exists"}])
    assert daemonplan.placement(tolerant, node("a", taints=[("dedicated", "db", "NoExecute")])) == (True, True)


def test_daemon_pods_tolerate_failing_and_cordoned_nodes():
    ds = daemon_set()
    for key, effect in (("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
                        ("node.kubernetes.io/unschedulable", "NoSchedule"),
                        ("node.kubernetes.io/disk-pressure", "NoSchedule")):
        assert daemonplan.placement(ds, node("a", taints=[(key, "", effect)], unschedulable=True)) == (True, True)
    no_network = node("a", taints=[("node.kubernetes.io/network-unavailable", "", "NoSchedule")])
    assert daemonplan.placement(ds, no_network)[0] is False
    assert daemonplan.placement(daemon_set(host_network=True), no_network)[0]


def test_the_daemon_pod_is_pinned_to_its_node_by_affinity_and_left_to_the_scheduler():
    ds = daemon_set(affinity={"node_affinity": {"required_during_scheduling_ignored_during_execution": {
        "node_selector_terms": [{"match_expressions": [{"key": "zone", "operator": "Exists"}]}]}}})
    p = daemonplan.daemon_pod(ds, "n2", "abc")
    assert p.spec.node_name == ""
    terms = p.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
    assert len(terms) == 1 and not terms[0].match_expressions
    assert [(r.key, r.operator, list(r.values)) for r in terms[0].match_fields] == [("metadata.name", "In", ["n2"])]
    assert daemonplan.node_of(p) == "n2"
    assert p.metadata.labels[daemonplan.REVISION_HASH] == "abc"
    assert p.metadata.owner_references[0].kind == "DaemonSet" and p.metadata.owner_references[0].controller
    keys = {(t.key, t.effect) for t in p.spec.tolerations}
    assert ("node.kubernetes.io/unschedulable", "NoSchedule") in keys and \
        ("node.kubernetes.io/not-ready", "NoExecute") in keys
    assert not any(t.HasField("toleration_seconds") for t in p.spec.tolerations)


def test_the_hash_follows_the_template():
    assert daemonplan.current_hash(daemon_set()) == daemonplan.current_hash(daemon_set())
    assert daemonplan.current_hash(daemon_set()) != daemonplan.current_hash(daemon_set(image="busybox:2"))


# ---------------------------------------------------------------- manage

def test_manage_creates_where_missing_and_deletes_duplicates_failed_misplaced_and_orphaned():
    ds = daemon_set(node_selector={"role": "log"})
    h = daemonplan.current_hash(ds)
    nodes = [node("n1", {"role": "log"}), node("n2", {"role": "log"}), node("n3", {"role": "log"}), node("n4")]
    pods = [daemon("a", "n1", h, created=0), daemon("b", "n1", h, created=5),    # duplicate: newest goes
            daemon("c", "n2", h, phase="Failed"),                                  # failed: replaced
            daemon("d", "n4", h),                                                  # node no longer selected
            daemon("e", "gone", h)]                                                # node deleted
    plan = daemonplan.manage(ds, daemonplan.placements(ds, nodes), pods, h)
    assert sorted(plan.create_on) == ["n2", "n3"]
    assert sorted(p.metadata.name for p in plan.delete) == ["b", "c", "d", "e"]


def test_a_noexecute_taint_evicts_the_daemon_pod_and_a_terminating_one_is_replaced():
    ds = daemon_set()
    h = daemonplan.current_hash(ds)
    placed = daemonplan.placements(ds, [node("n1", taints=[("maintenance", "", "NoExecute")]), node("n2")])
    plan = daemonplan.manage(ds, placed, [daemon("a", "n1", h), daemon("b", "n2", h, deleting=True)], h)
    assert [p.metadata.name for p in plan.delete] == ["a"] and plan.create_on == ["n2"]


# ---------------------------------------------------------------- rolling update

def test_rolling_update_without_surge_replaces_max_unavailable_nodes_at_a_time():
    ds = daemon_set(unavailable=2, image="busybox:2")
    h, everywhere = daemonplan.current_hash(ds), daemonplan.placements(ds, NODES)
    pods = [daemon(f"old{i}", n.metadata.name, "old") for i, n in enumerate(NODES)]
    plan = daemonplan.rolling_update(ds, everywhere, pods, h, NOW + 100)
    assert len(plan.delete) == 2 and not plan.create_on
    # One node already has an unavailable new pod: only one more old pod may go.
    pods = [daemon("new0", "n1", h, ready=False), daemon("old1", "n2", "old"), daemon("old2", "n3", "old")]
    assert len(daemonplan.rolling_update(ds, everywhere, pods, h, NOW + 100).delete) == 1
    # An unavailable old pod is replaced at once, whatever the budget.
    pods = [daemon("new0", "n1", h, ready=False), daemon("new1", "n2", h, ready=False),
            daemon("old2", "n3", "old", ready=False)]
    assert [p.metadata.name for p in daemonplan.rolling_update(ds, everywhere, pods, h, NOW + 100).delete] == ["old2"]


def test_rolling_update_with_surge_starts_the_new_pod_first_and_deletes_the_old_once_available():
    ds = daemon_set(surge=1, unavailable=0, image="busybox:2")
    h, everywhere = daemonplan.current_hash(ds), daemonplan.placements(ds, NODES)
    pods = [daemon(f"old{i}", n.metadata.name, "old") for i, n in enumerate(NODES)]
    plan = daemonplan.rolling_update(ds, everywhere, pods, h, NOW + 100)
    assert len(plan.create_on) == 1 and not plan.delete
    surging = pods + [daemon("new0", "n1", h, ready=False)]
    assert daemonplan.rolling_update(ds, everywhere, surging, h, NOW + 100).create_on == []   # budget used
    assert daemonplan.manage(ds, everywhere, surging, h).delete == []                         # the pair is kept
    done = pods + [daemon("new0", "n1", h)]
    plan = daemonplan.rolling_update(ds, everywhere, done, h, NOW + 100)
    assert [p.metadata.name for p in plan.delete] == ["old0"] and len(plan.create_on) == 1


def test_min_ready_seconds_holds_back_availability():
    ds = daemon_set(min_ready=30)
    h = daemonplan.current_hash(ds)
    pods = [daemon("a", "n1", h, ready_since=0)]
    assert not daemonplan.is_available(pods[0], 30, NOW + 10)
    assert daemonplan.is_available(pods[0], 30, NOW + 31)
    assert 19 < daemonplan.next_availability_check(ds, pods, NOW + 10) <= 20


# ---------------------------------------------------------------- status and rollout status

def test_status_counts_nodes_and_rollout_status_follows_it():
    ds = daemon_set(node_selector={"role": "log"})
    h = daemonplan.current_hash(ds)
    nodes = [node("n1", {"role": "log"}), node("n2", {"role": "log"}), node("n3", {"role": "log"}), node("n4")]
    pods = [daemon("a", "n1", h), daemon("b", "n2", "old"), daemon("c", "n3", h, ready=False), daemon("d", "n4", h)]
    status = daemonplan.compute_status(ds, daemonplan.placements(ds, nodes), pods, h, NOW + 100)
    assert (status.desired_number_scheduled, status.current_number_scheduled, status.number_misscheduled,
            status.number_ready, status.updated_number_scheduled, status.number_available,
            status.number_unavailable, status.observed_generation) == (3, 3, 1, 2, 2, 2, 1, 1)
    ds.status.CopyFrom(status)
    assert daemonplan.rollout_message(ds) == (
        'Waiting for daemon set "logs" rollout to finish: 2 out of 3 new pods have been updated...', False)
    ds.status.updated_number_scheduled = 3
    assert daemonplan.rollout_message(ds)[0].endswith("2 of 3 updated pods are available...")
    ds.status.number_available = 3
    assert daemonplan.rollout_message(ds) == ('daemon set "logs" successfully rolled out', True)
    ds.metadata.generation = 2
    assert daemonplan.rollout_message(ds) == ("Waiting for daemon set spec update to be observed...", False)


def test_rollout_status_refuses_on_delete():
    try:
        daemonplan.rollout_message(daemon_set(strategy="OnDelete"))
    except ValueError as e:
        assert "only available for RollingUpdate" in str(e)
    else:
        raise AssertionError("OnDelete has no rollout status")
