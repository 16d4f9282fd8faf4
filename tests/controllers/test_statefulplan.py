"""StatefulSet rules (statefulplan.py), on objects built in memory: identity, ordered and parallel
creation and removal, claims made before pods and kept after them, the partitioned rolling update, status."""
from controlplane.api import defaults
from controlplane.api.kinds import KINDS
from controlplane.controllers import statefulplan as sp
from tests.controllers.builders import NOW, pod
from tests.controllers.support import template


def stateful_set(replicas=3, *, policy="OrderedReady", partition=None, strategy="RollingUpdate", when_scaled="Retain",
                 image="busybox"):
    tpl = template({"app": "db"}, image)
    tpl["spec"]["containers"][0]["volume_mounts"] = [{"name": "data", "mount_path": "/data"}]
    sts = KINDS["StatefulSet"].new(
        metadata={"name": "db", "namespace": "default", "uid": "sts-uid", "generation": 1},
        spec={"replicas": replicas, "selector": {"match_labels": {"app": "db"}}, "service_name": "db",
              "template": tpl, "pod_management_policy": policy, "update_strategy": {"type": strategy},
              "persistent_volume_claim_retention_policy": {"when_scaled": when_scaled},
              "volume_claim_templates": [{"metadata": {"name": "data"}, "spec": {
                  "access_modes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]})
    if partition is not None:
        sts.spec.update_strategy.rolling_update.partition = partition
    defaults.apply_defaults(sts)
    return sts


def member(sts, ordinal, revision=None, **kwargs):
    made = sp.new_pod(sts, ordinal, revision or sp.revision(sts))
    return pod(made.metadata.name, labels=dict(made.metadata.labels), **kwargs)


def claims_of(sts, ordinals):
    return {c.metadata.name: c for c in (sp.new_claim(sts, sts.spec.volume_claim_templates[0], o) for o in ordinals)}


def test_pod_identity_and_its_claim():
    sts = stateful_set()
    p = sp.new_pod(sts, 2, "db-abc")
    assert (p.metadata.name, p.metadata.generate_name, p.spec.hostname, p.spec.subdomain) == ("db-2", "", "db-2", "db")
    assert p.metadata.labels[sp.POD_NAME_LABEL] == "db-2" and p.metadata.labels[sp.REVISION_HASH] == "db-abc"
    assert [(v.name, v.persistent_volume_claim.claim_name) for v in p.spec.volumes] == [("data", "data-db-2")]
    claim = sp.new_claim(sts, sts.spec.volume_claim_templates[0], 2)
    assert (claim.metadata.name, dict(claim.metadata.labels), list(claim.metadata.owner_references)) == \
        ("data-db-2", {"app": "db"}, [])


def test_ordered_ready_creates_one_pod_at_a_time_claims_first():
    sts = stateful_set()
    first = sp.plan(sts, [], {}, sp.revision(sts))
    assert [p.metadata.name for p in first.create] == ["db-0"]
    assert [c.metadata.name for c in first.create_claims] == ["data-db-0"]
    starting = sp.plan(sts, [member(sts, 0, phase="Pending", ready=False)], claims_of(sts, [0]), sp.revision(sts))
    assert (starting.create, starting.delete) == ([], [])
    next_ = sp.plan(sts, [member(sts, 0)], claims_of(sts, [0]), sp.revision(sts))
    assert [p.metadata.name for p in next_.create] == ["db-1"]


def test_parallel_creates_every_pod_at_once_and_reuses_kept_claims():
    sts = stateful_set(policy="Parallel")
    plan = sp.plan(sts, [], claims_of(sts, [1]), sp.revision(sts))
    assert [p.metadata.name for p in plan.create] == ["db-0", "db-1", "db-2"]
    assert [c.metadata.name for c in plan.create_claims] == ["data-db-0", "data-db-2"]


def test_a_claim_being_deleted_holds_its_pod_back():
    sts = stateful_set(1)
    claims = claims_of(sts, [0])
    claims["data-db-0"].metadata.deletion_timestamp.seconds = NOW
    assert sp.plan(sts, [], claims, sp.revision(sts)).create == []


def test_scale_down_removes_the_highest_ordinal_first_and_keeps_claims():
    sts = stateful_set(1)
    pods = [member(sts, o) for o in range(3)]
    plan = sp.plan(sts, pods, claims_of(sts, range(3)), sp.revision(sts))
    assert ([p.metadata.name for p in plan.delete], plan.delete_claims) == (["db-2"], [])
    pods[0] = member(sts, 0, ready=False)
    assert sp.plan(sts, pods, claims_of(sts, range(3)), sp.revision(sts)).delete == []


def test_when_scaled_delete_removes_claims_of_pods_gone():
    sts = stateful_set(1, when_scaled="Delete")
    plan = sp.plan(sts, [member(sts, 0), member(sts, 1)], claims_of(sts, range(3)), sp.revision(sts))
    assert [c.metadata.name for c in plan.delete_claims] == ["data-db-2"]


def test_rolling_update_replaces_from_the_top_down_to_the_partition():
    old = stateful_set(partition=1)
    pods = [member(old, o, revision="db-old") for o in range(3)]
    new_revision = sp.revision(old)
    claims = claims_of(old, range(3))
    assert [p.metadata.name for p in sp.plan(old, pods, claims, new_revision).delete] == ["db-2"]
    pods[2] = member(old, 2, revision=new_revision, ready=False)
    assert sp.plan(old, pods, claims, new_revision).delete == []      # waits for db-2 to be ready
    pods[2] = member(old, 2, revision=new_revision)
    assert [p.metadata.name for p in sp.plan(old, pods, claims, new_revision).delete] == ["db-1"]
    pods[1] = member(old, 1, revision=new_revision)
    assert sp.plan(old, pods, claims, new_revision).delete == []      # db-0 is below the partition


def test_on_delete_leaves_old_pods():
    sts = stateful_set(strategy="OnDelete")
    pods = [member(sts, o, revision="db-old") for o in range(3)]
    assert sp.plan(sts, pods, claims_of(sts, range(3)), sp.revision(sts)).delete == []


def test_status_counts_and_the_current_revision_follows_a_complete_update():
    sts = stateful_set(2)
    rev = sp.revision(sts)
    sts.status.current_revision = "db-old"
    status = sp.compute_status(sts, [member(sts, 0, revision="db-old"), member(sts, 1, revision=rev)], rev, NOW)
    assert (status.replicas, status.ready_replicas, status.current_replicas, status.updated_replicas,
            status.current_revision, status.update_revision) == (2, 2, 1, 1, "db-old", rev)
    status = sp.compute_status(sts, [member(sts, 0, revision=rev), member(sts, 1, revision=rev)], rev, NOW)
    assert (status.current_replicas, status.current_revision) == (2, rev)
    assert sp.rollout_message(sts)[1] is False


def test_a_pod_below_the_partition_is_made_again_from_the_current_revision():
    old = stateful_set(partition=2)
    old_template = type(old.spec.template)()
    old_template.CopyFrom(old.spec.template)
    new = stateful_set(partition=2, image="busybox:2")
    pods = [member(new, 1, revision="db-old"), member(new, 2, revision=sp.revision(new))]
    plan = sp.plan(new, pods, claims_of(new, range(3)), sp.revision(new), ("db-old", old_template))
    (made,) = plan.create
    assert (made.metadata.name, made.metadata.labels[sp.REVISION_HASH], made.spec.containers[0].image) == \
        ("db-0", "db-old", "busybox")
    pods = [member(new, 0, revision="db-old"), member(new, 1, revision="db-old")]
    (made,) = sp.plan(new, pods, claims_of(new, range(3)), sp.revision(new), ("db-old", old_template)).create
    assert (made.metadata.name, made.spec.containers[0].image) == ("db-2", "busybox:2")   # above: the new one


def test_old_revisions_beyond_the_history_limit_are_deleted_unless_used():
    sts = stateful_set()
    sts.spec.revision_history_limit = 1
    records = [sp.revision_record(sts, f"db-r{i}", i) for i in range(1, 5)]
    pods = [member(sts, 0, revision="db-r1")]
    doomed = sp.revisions_to_delete(sts, records, pods, keep={"db-r4"})
    assert [r.metadata.name for r in doomed] == ["db-r2"]   # r1 used by a pod, r4 kept, r3 within the limit
