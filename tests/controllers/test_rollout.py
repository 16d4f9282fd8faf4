"""Deployment rollout arithmetic (controllers/rollout.py), without a server."""
import pytest
from google.protobuf import struct_pb2

from controlplane.api import defaults
from controlplane.api.kinds import KINDS
from controlplane.controllers import rollout

NOW = 1_700_000_000


def value(v) -> struct_pb2.Value:
    return struct_pb2.Value(number_value=v) if isinstance(v, int) else struct_pb2.Value(string_value=v)


def deployment(replicas=10, *, surge="25%", unavailable="25%", image="web:1", strategy="RollingUpdate",
               generation=1, **spec):
    d = KINDS["Deployment"].new(metadata={"name": "web", "namespace": "default", "uid": "d-uid",
                                          "generation": generation},
                                spec={"replicas": replicas, "selector": {"match_labels": {"app": "web"}},
                                      "template": {"metadata": {"labels": {"app": "web"}},
                                                   "spec": {"containers": [{"name": "c", "image": image}]}},
                                      "strategy": {"type": strategy}, **spec})
    if strategy == "RollingUpdate":
        d.spec.strategy.rolling_update.max_surge.CopyFrom(value(surge))
        d.spec.strategy.rolling_update.max_unavailable.CopyFrom(value(unavailable))
    defaults.apply_defaults(d)
    return d


def replica_set(d, *, name, replicas, available=None, status_replicas=None, created=0, revision=1, image=None):
    rs = rollout.new_replica_set(d, replicas_count=replicas, revision_number=revision, collision_count=0)
    rs.metadata.name = name
    rs.metadata.uid = f"{name}-uid"
    rs.metadata.creation_timestamp.seconds = NOW + created
    if image:
        rs.spec.template.spec.containers[0].image = image
    rs.status.replicas = replicas if status_replicas is None else status_replicas
    rs.status.available_replicas = replicas if available is None else available
    rs.status.ready_replicas = rs.status.available_replicas
    return rs


@pytest.mark.parametrize("raw, total, up, down", [
    (2, 10, 2, 2), ("25%", 10, 3, 2), ("25%", 4, 1, 1), ("0%", 10, 0, 0), ("100%", 3, 3, 3), ("50%", 1, 1, 0)])
def test_int_or_percent_scales_against_the_total(raw, total, up, down):
    assert rollout.scaled(value(raw), total, round_up=True) == up
    assert rollout.scaled(value(raw), total, round_up=False) == down


def test_fenceposts_round_surge_up_and_unavailable_down_and_are_never_both_zero():
    assert rollout.fenceposts(deployment(10)) == (3, 2)
    assert rollout.fenceposts(deployment(1)) == (1, 0)
    assert rollout.fenceposts(deployment(10, surge=0, unavailable="1%")) == (0, 1)
    assert rollout.max_unavailable(deployment(2, unavailable=5)) == 2
    assert rollout.fenceposts(deployment(10, strategy="Recreate")) == (0, 0)


def test_template_hash_names_a_template_and_steps_on_collision():
    a, b = deployment(image="web:1"), deployment(image="web:2")
    assert rollout.template_hash(a.spec.template) == rollout.template_hash(deployment(image="web:1").spec.template)
    assert rollout.template_hash(a.spec.template) != rollout.template_hash(b.spec.template)
    assert rollout.template_hash(a.spec.template, 1) != rollout.template_hash(a.spec.template, 0)
    rs = rollout.new_replica_set(a, replicas_count=1, revision_number=1, collision_count=0)
    assert rs.metadata.name == f"web-{rollout.template_hash(a.spec.template)}"
    assert rs.spec.selector.match_labels[rollout.POD_TEMPLATE_HASH] == rs.metadata.labels[rollout.POD_TEMPLATE_HASH]
    assert rollout.templates_equal(rs.spec.template, a.spec.template)      # the hash label is ignored
    assert rollout.template_hash(rs.spec.template) == rollout.template_hash(a.spec.template)
    assert rs.metadata.owner_references[0].uid == "d-uid" and rs.metadata.owner_references[0].controller


def test_split_new_old_and_revisions():
    d = deployment(image="web:2")
    old = replica_set(d, name="web-old", replicas=3, image="web:1", revision=4)
    new = replica_set(d, name="web-new", replicas=1, revision=5)
    found, olds = rollout.split_new_old(d, [old, new])
    assert found is new and olds == [old]
    assert rollout.max_revision([old, new]) == 5


def test_new_replica_set_grows_within_max_surge_counting_pods_not_yet_gone():
    d = deployment(10, surge=3, unavailable=2, image="web:2")
    old = replica_set(d, name="old", replicas=10, image="web:1")
    assert rollout.new_rs_replicas(d, [old], None) == 3
    new = replica_set(d, name="new", replicas=3, available=0)
    assert rollout.new_rs_replicas(d, [old, new], new) == 3               # at the ceiling
    old.spec.replicas = 8                                                  # scaled down, pods not gone yet
    assert rollout.new_rs_replicas(d, [old, new], new) == 3
    old.status.replicas = 8
    assert rollout.new_rs_replicas(d, [old, new], new) == 5
    new.spec.replicas = 12
    assert rollout.new_rs_replicas(d, [old, new], new) == 10               # never above spec.replicas


def test_old_replica_sets_shrink_by_unavailable_pods_first_then_within_max_unavailable():
    d = deployment(10, surge=3, unavailable=2, image="web:2")
    old = replica_set(d, name="old", replicas=10, image="web:1")
    new = replica_set(d, name="new", replicas=3, available=0)
    assert rollout.old_scale_down(d, [old, new], [old], new) == {"old": 8}
    sick = replica_set(d, name="sick", replicas=10, available=6, image="web:1")
    new = replica_set(d, name="new", replicas=3, available=3)
    # room = 13 - 8 - 0 = 5: the 4 unavailable go first, then 1 of the available ones (6+3-8)
    assert rollout.old_scale_down(d, [sick, new], [sick], new) == {"sick": 5}
    nothing_spare = replica_set(d, name="old", replicas=8, available=8, image="web:1")
    starting = replica_set(d, name="new", replicas=5, available=0)
    assert rollout.old_scale_down(d, [nothing_spare, starting], [nothing_spare], starting) == {}


def test_a_simulated_rolling_update_keeps_its_bounds_and_finishes():
    """Drive the arithmetic against an ideal ReplicaSet controller; check the bounds after every step."""
    for replicas, surge, unavailable in ((10, "25%", "25%"), (5, 1, 0), (5, 0, 1), (3, "50%", "50%"), (1, 1, 0)):
        d = deployment(replicas, surge=surge, unavailable=unavailable, image="web:2")
        old = replica_set(d, name="old", replicas=replicas, image="web:1", created=0)
        new = None
        max_surge, max_unavailable = rollout.max_surge(d), rollout.max_unavailable(d)
        for _ in range(100):
            all_rss = [old] + ([new] if new else [])
            wanted = rollout.new_rs_replicas(d, all_rss, new)
            if new is None or wanted != new.spec.replicas:
                if new is None:
                    new = replica_set(d, name="new", replicas=wanted, available=0, created=1)
                else:
                    new.spec.replicas = wanted
            else:
                plan = rollout.old_scale_down(d, all_rss, [old], new)
                if not plan and new.status.available_replicas == replicas and old.spec.replicas == 0:
                    break
                if "old" in plan:
                    old.spec.replicas = plan["old"]
            # the ReplicaSet controller: pods follow spec; new pods become available one step later
            old.status.replicas = old.status.available_replicas = old.spec.replicas
            new.status.available_replicas = min(new.status.replicas, new.spec.replicas)
            new.status.replicas = new.spec.replicas
            pods = old.status.replicas + new.status.replicas
            available = old.status.available_replicas + new.status.available_replicas
            assert pods <= replicas + max_surge, (replicas, surge, unavailable)
            assert available >= replicas - max_unavailable, (replicas, surge, unavailable)
        else:
            pytest.fail(f"rollout {replicas}/{surge}/{unavailable} did not finish")


def test_proportional_scaling_mid_rollout_keeps_the_shape():
    d = deployment(20, surge=3, unavailable=2, image="web:2")
    old = replica_set(d, name="old", replicas=8, created=0, image="web:1")
    new = replica_set(d, name="new", replicas=5, created=10)
    old.metadata.annotations[rollout.DESIRED_REPLICAS] = "10"
    assert rollout.is_scaling_event(d, [old, new])
    plan = rollout.proportional_scale(d, new, [old])
    assert sum(plan.values()) == 23                  # 20 + maxSurge 3
    assert plan["old"] > plan["new"] > 5             # both grew, in proportion
    single = replica_set(d, name="only", replicas=10)
    assert rollout.proportional_scale(d, single, []) == {"only": 20}
    down = deployment(2, surge=0, unavailable=1, image="web:2")
    plan = rollout.proportional_scale(down, replica_set(down, name="new", replicas=4, created=10),
                                      [replica_set(down, name="old", replicas=6, image="web:1")])
    assert sum(plan.values()) == 2 and min(plan.values()) >= 0


def test_status_counts_and_conditions():
    d = deployment(3, surge=1, unavailable=0)
    new = replica_set(d, name="new", replicas=3)
    status = rollout.compute_status(d, [new], new, now=NOW)
    assert (status.replicas, status.updated_replicas, status.available_replicas, status.unavailable_replicas) \
        == (3, 3, 3, 0)
    assert rollout.is_complete(d, status)
    progressing = rollout.condition(status, rollout.PROGRESSING)
    assert (progressing.status, progressing.reason) == ("True", rollout.NEW_RS_AVAILABLE)
    assert rollout.condition(status, rollout.AVAILABLE).status == "True"


def test_a_rollout_without_progress_times_out_after_the_deadline():
    d = deployment(3, surge=1, unavailable=0, progress_deadline_seconds=30)
    new = replica_set(d, name="new", replicas=1, available=0, status_replicas=1)
    old = replica_set(d, name="old", replicas=3, image="web:0")
    d.status.CopyFrom(rollout.compute_status(d, [old, new], new, started=(rollout.NEW_RS_CREATED, "x"), now=NOW))
    assert rollout.condition(d.status, rollout.PROGRESSING).status == "True"
    assert rollout.seconds_to_deadline(d, d.status, now=NOW + 10) == pytest.approx(21)
    still = rollout.compute_status(d, [old, new], new, now=NOW + 20)
    assert rollout.condition(still, rollout.PROGRESSING).status == "True"
    late = rollout.compute_status(d, [old, new], new, now=NOW + 31)
    assert (rollout.condition(late, rollout.PROGRESSING).status,
            rollout.condition(late, rollout.PROGRESSING).reason) == ("False", rollout.TIMED_OUT)
    d.status.CopyFrom(late)
    with pytest.raises(ValueError, match="exceeded its progress deadline"):
        rollout.rollout_message(d)


def test_paused_and_resumed_conditions():
    d = deployment(3, paused=True)
    status = rollout.compute_status(d, [], None, now=NOW)
    assert rollout.condition(status, rollout.PROGRESSING).reason == rollout.PAUSED
    d.status.CopyFrom(status)
    d.spec.paused = False
    resumed = rollout.compute_status(d, [], None, now=NOW)
    assert rollout.condition(resumed, rollout.PROGRESSING).reason == rollout.RESUMED


def test_history_beyond_the_limit_is_deleted_oldest_revision_first():
    d = deployment(3, revision_history_limit=2)
    olds = [replica_set(d, name=f"old{i}", replicas=0, revision=i, image=f"web:{i}") for i in range(1, 6)]
    busy = replica_set(d, name="busy", replicas=2, revision=0, image="web:x")
    assert [rs.metadata.name for rs in rollout.history_to_delete(d, olds + [busy])] == ["old1", "old2", "old3"]


def test_rollout_status_messages_follow_the_rollout():
    d = deployment(3, generation=2)
    d.status.observed_generation = 1
    assert rollout.rollout_message(d) == ("Waiting for deployment spec update to be observed...", False)
    d.status.observed_generation = 2
    d.status.updated_replicas, d.status.replicas = 1, 4
    assert "1 out of 3 new replicas have been updated" in rollout.rollout_message(d)[0]
    d.status.updated_replicas = 3
    assert "1 old replicas are pending termination" in rollout.rollout_message(d)[0]
    d.status.replicas, d.status.available_replicas = 3, 2
    assert "2 of 3 updated replicas are available" in rollout.rollout_message(d)[0]
    d.status.available_replicas = 3
    assert rollout.rollout_message(d) == ('deployment "web" successfully rolled out', True)
