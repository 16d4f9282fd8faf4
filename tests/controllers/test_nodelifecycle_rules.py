"""Node lifecycle rules without a server: taints, tolerations, zone states."""
from controlplane.api import defaults
from controlplane.api.kinds import KINDS
from controlplane.api.v1 import core_pb2
from controlplane.controllers import nodelifecycle as nl
from tests.controllers.builders import NOW, pod


def node(ready: str | None, taints=()):
    n = KINDS["Node"].new(metadata={"name": "n1"})
    if ready is not None:
        n.status.conditions.add(type="Ready", status=ready)
    for key, effect in taints:
        n.spec.taints.add(key=key, effect=effect)
    return n


def taint(key=nl.UNREACHABLE_TAINT, effect="NoExecute", added=NOW, value=""):
    t = core_pb2.Taint(key=key, effect=effect, value=value)
    t.time_added.seconds = added
    return t


def test_the_ready_condition_picks_the_taint():
    assert nl.wanted_taint(node("True")) is None
    assert nl.wanted_taint(node("False")) == nl.NOT_READY_TAINT
    assert nl.wanted_taint(node("Unknown")) == nl.UNREACHABLE_TAINT
    assert nl.wanted_taint(node(None)) == nl.UNREACHABLE_TAINT


def test_lifecycle_taints_are_set_exactly_and_other_taints_kept():
    n = node("Unknown", taints=[("dedicated", "NoSchedule")])
    taints = nl.with_lifecycle_taints(n, nl.UNREACHABLE_TAINT, NOW)
    assert sorted((t.key, t.effect) for t in taints) == [
        ("dedicated", "NoSchedule"), (nl.UNREACHABLE_TAINT, "NoExecute"), (nl.UNREACHABLE_TAINT, "NoSchedule")]
    n.spec.ClearField("taints")
    n.spec.taints.extend(taints)
    assert nl.with_lifecycle_taints(n, nl.UNREACHABLE_TAINT, NOW) is None      # already so
    swapped = nl.with_lifecycle_taints(n, nl.NOT_READY_TAINT, NOW)
    assert {t.key for t in swapped} == {"dedicated", nl.NOT_READY_TAINT}
    assert [t.key for t in nl.with_lifecycle_taints(n, None, NOW)] == ["dedicated"]


def test_a_full_disruption_takes_back_no_execute_and_keeps_no_schedule():
    n = node("Unknown", taints=[("dedicated", "NoSchedule"), (nl.UNREACHABLE_TAINT, "NoSchedule"),
                                (nl.UNREACHABLE_TAINT, "NoExecute")])
    held = nl.with_lifecycle_taints(n, nl.UNREACHABLE_TAINT, NOW, effects=("NoSchedule",))
    assert sorted((t.key, t.effect) for t in held) == [("dedicated", "NoSchedule"),
                                                       (nl.UNREACHABLE_TAINT, "NoSchedule")]
    n.spec.ClearField("taints")
    n.spec.taints.extend(held)
    assert nl.with_lifecycle_taints(n, nl.UNREACHABLE_TAINT, NOW, effects=("NoSchedule",)) is None


def test_tolerations_match_by_key_value_effect_and_operator():
    t = taint(key="k", value="v", effect="NoExecute")
    Tol = core_pb2.Toleration
    assert nl.tolerates(Tol(operator="Exists"), t)
    assert nl.tolerates(Tol(key="k", operator="Exists", effect="NoExecute"), t)
    assert nl.tolerates(Tol(key="k", operator="Equal", value="v"), t)
    assert not nl.tolerates(Tol(key="k", operator="Equal", value="w"), t)
    assert not nl.tolerates(Tol(key="k", operator="Exists", effect="NoSchedule"), t)
    assert not nl.tolerates(Tol(key="other", operator="Exists"), t)


def test_eviction_time_follows_the_shortest_toleration():
    p = pod("p")
    assert nl.eviction_time(p, [taint()]) == 0.0                 # no toleration: now
    defaults.apply_defaults(p)                                   # the default 300 s tolerations
    assert nl.eviction_time(p, [taint()]) == NOW + 300
    p.spec.tolerations.add(key=nl.UNREACHABLE_TAINT, operator="Exists", effect="NoExecute", toleration_seconds=5)
    assert nl.eviction_time(p, [taint()]) == NOW + 5
    forever = pod("forever")
    forever.spec.tolerations.add(operator="Exists")
    assert nl.eviction_time(forever, [taint()]) is None
    assert nl.eviction_time(forever, [taint(effect="NoSchedule")]) is None


def test_zone_states():
    assert nl.zone_state(10, 0, unhealthy_threshold=0.55) == nl.NORMAL_ZONE
    assert nl.zone_state(1, 1, unhealthy_threshold=0.55) == nl.NORMAL_ZONE
    assert nl.zone_state(2, 3, unhealthy_threshold=0.55) == nl.PARTIAL_DISRUPTION
    assert nl.zone_state(0, 2, unhealthy_threshold=0.55) == nl.FULL_DISRUPTION


def test_taints_are_rate_limited_by_a_token_bucket():
    bucket = nl._TokenBucket(0.5)
    assert bucket.take(100.0)
    assert not bucket.take(100.1)
    assert not bucket.take(101.9)
    assert bucket.take(102.1)
    assert not nl._TokenBucket(0.0).take(100.0)          # a zone in full disruption: never
