"""The resource quota controller's pure part: the status it writes, and which kinds it lists."""
from controlplane.api.kinds import KINDS
from controlplane.controllers.resourcequota import compute_status, listed_kinds
from tests.controllers.builders import pod


def test_status_copies_hard_and_counts_what_exists():
    quota = KINDS["ResourceQuota"].new(metadata={"name": "q", "namespace": "default"},
                                       spec={"hard": {"pods": "4", "count/deployments.apps": "2", "secrets": "1"}})
    deployment = KINDS["Deployment"].new(metadata={"name": "d", "namespace": "default"})
    status = compute_status(quota, [pod("a"), pod("b", phase="Failed"), pod("c"), deployment])
    assert dict(status.hard) == dict(quota.spec.hard)
    assert dict(status.used) == {"pods": "2", "count/deployments.apps": "1", "secrets": "0"}
    assert listed_kinds(quota) == set()   # every kind here comes from informers
    quota.spec.hard["count/events"] = "100"
    assert listed_kinds(quota) == {"Event"}
