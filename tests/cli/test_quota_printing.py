"""How `cox get` and `cox describe` show ResourceQuotas and LimitRanges (kubectl's columns and tables)."""
from controlplane.api.kinds import KINDS
from controlplane.cli.printing import columns
from controlplane.cli.printing.describe import describe


def quota():
    q = KINDS["ResourceQuota"].new(metadata={"name": "q", "namespace": "default"},
                                   spec={"hard": {"pods": "2", "requests.cpu": "1", "limits.cpu": "2"}})
    q.status.hard.update(q.spec.hard)
    q.status.used.update({"pods": "1", "requests.cpu": "500m", "limits.cpu": "1"})
    return q


def test_get_quota_splits_requests_from_limits():
    header, rows = columns.table(KINDS["ResourceQuota"], [quota()], now=0)
    assert header == ["NAME", "AGE", "REQUEST", "LIMIT"]
    assert rows[0][2:] == ["pods: 1/2, requests.cpu: 500m/1", "limits.cpu: 1/2"]


def test_describe_shows_used_and_hard_and_the_bounds():
    page = describe(KINDS["ResourceQuota"], quota(), events=[]).splitlines()
    assert page[4].split() == ["Resource", "Used", "Hard"] and page[6].split() == ["limits.cpu", "1", "2"]
    limits = KINDS["LimitRange"].new(metadata={"name": "l", "namespace": "default"}, spec={"limits": [
        {"type": "Container", "default": {"cpu": "500m"}, "default_request": {"cpu": "100m"}}]})
    page = describe(KINDS["LimitRange"], limits, events=[]).splitlines()
    assert page[6].split() == ["Container", "cpu", "-", "-", "100m", "500m", "-"]
