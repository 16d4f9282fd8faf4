"""The store's requests timed as kube-apiserver times its etcd calls, over a real SQLite store."""
import pytest
from prometheus_client import REGISTRY

from controlplane.metrics.storage import MeasuredStore, resource_of
from controlplane.store import CompactedError
from controlplane.store.sqlite import SQLiteStore


def _value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_type_is_the_resource_of_the_key():
    assert resource_of("/registry/pods/default/web") == "pods"
    assert resource_of("/registry/nodes/") == "nodes"
    assert resource_of("/bootstrap/data") == "bootstrap"


async def test_operations_are_counted_timed_and_failures_counted_apart(tmp_path):
    store = MeasuredStore(await SQLiteStore.open(str(tmp_path / "state.db")))
    labels = {"operation": "create", "type": "configmaps"}
    before = {name: _value(name, **labels) for name in ("etcd_requests_total", "etcd_request_duration_seconds_count")}
    try:
        first = await store.put("/registry/configmaps/default/a", b"1", expect_mod_revision=0)
        await store.put("/registry/configmaps/default/a", b"2", expect_mod_revision=first.revision)
        await store.compact(first.revision + 1)
        failures = _value("etcd_request_errors_total", operation="list", type="configmaps")
        with pytest.raises(CompactedError):
            await store.range("/registry/configmaps/", revision=first.revision)
    finally:
        await store.close()
    assert _value("etcd_requests_total", **labels) - before["etcd_requests_total"] == 1
    assert _value("etcd_request_duration_seconds_count", **labels) - before["etcd_request_duration_seconds_count"] == 1
    assert _value("etcd_requests_total", operation="update", type="configmaps") >= 1
    assert _value("etcd_request_errors_total", operation="list", type="configmaps") - failures == 1
