"""ReplicaSet decisions without a server: which pods go first, what status says."""
from controlplane.api.kinds import KINDS
from controlplane.controllers import replicaset
from tests.controllers.builders import NOW, pod


def test_scale_down_deletes_unscheduled_then_pending_then_not_ready_then_newest():
    pods = [pod("old-ready", created=0), pod("new-ready", created=50), pod("unready", ready=False),
            pod("pending", phase="Pending", ready=False), pod("unscheduled", node="", phase="Pending", ready=False),
            pod("crashy", restarts=5, created=1, ready_since=1)]
    order = [p.metadata.name for p in replicaset.pods_to_delete(pods, 6, now=NOW + 100)]
    assert order == ["unscheduled", "pending", "unready", "new-ready", "crashy", "old-ready"]
    assert [p.metadata.name for p in replicaset.pods_to_delete(pods, 2, now=NOW + 100)] == ["unscheduled", "pending"]


def test_ready_for_less_time_goes_before_ready_for_longer():
    pods = [pod("long", ready_since=0, created=0), pod("short", ready_since=90, created=0)]
    assert replicaset.pods_to_delete(pods, 1, now=NOW + 100)[0].metadata.name == "short"


def test_status_counts_active_ready_and_available_pods():
    rs = KINDS["ReplicaSet"].new(metadata={"name": "rs", "generation": 4},
                                 spec={"replicas": 4, "min_ready_seconds": 10,
                                       "template": {"metadata": {"labels": {"app": "web", "tier": "f"}}}})
    pods = [pod("a", ready_since=0, labels={"app": "web", "tier": "f"}), pod("b", ready_since=95),
            pod("c", ready=False), pod("done", phase="Succeeded", ready=False), pod("going", deleting=True)]
    status = replicaset.compute_status(rs, pods, now=NOW + 100)
    assert (status.replicas, status.ready_replicas, status.available_replicas, status.fully_labeled_replicas,
            status.observed_generation) == (3, 2, 1, 1, 4)
    assert replicaset.next_availability_check(rs, pods, now=NOW + 100) == 5


def test_a_failure_sets_replica_failure_and_success_clears_it():
    rs = KINDS["ReplicaSet"].new(metadata={"name": "rs"}, spec={"replicas": 1})
    failed = replicaset.compute_status(rs, [], now=NOW, failure=("FailedCreate", "quota"))
    assert [(c.type, c.status, c.reason) for c in failed.conditions] == [("ReplicaFailure", "True", "FailedCreate")]
    rs.status.CopyFrom(failed)
    assert not replicaset.compute_status(rs, [], now=NOW).conditions
