"""The dry-run header: every check a real request gets, and no write."""
import pytest

from controlplane.client import errors
from tests.apiserver.test_services import service
from tests.support.objects import configmap, pod


async def test_dry_run_create_checks_and_writes_nothing(client):
    pods = client.resource("Pod")
    checked = await pods.create(pod("web"), dry_run=True)
    assert checked.spec.restart_policy == "Always" and checked.spec.service_account_name == "default"
    assert not (await pods.list()).items
    bad = pod("web")
    bad.spec.containers[0].image = ""
    with pytest.raises(errors.Invalid, match=r"spec\.containers\[0\]\.image"):
        await pods.create(bad, dry_run=True)
    await pods.create(pod("web"))
    with pytest.raises(errors.AlreadyExists):
        await pods.create(pod("web"), dry_run=True)


async def test_dry_run_update_checks_and_writes_nothing(client):
    cms = client.resource("ConfigMap")
    stored = await cms.create(configmap("c", data={"a": "1"}))
    change = configmap("c", data={"a": "2"})
    assert (await cms.update(change, dry_run=True)).data["a"] == "2"
    assert (await cms.get("c")) == stored
    stale = configmap("c", data={"a": "3"})
    stale.metadata.resource_version = "1"
    with pytest.raises(errors.Conflict):
        await cms.update(stale, dry_run=True)


async def test_dry_run_service_takes_no_address_but_checks_requested_ones(client):
    services = client.resource("Service")
    await services.create(service("taken", cluster_ip="10.96.0.10"))
    with pytest.raises(errors.Invalid, match="already allocated"):
        await services.create(service("dns", cluster_ip="10.96.0.10"), dry_run=True)
    await services.create(service("free", cluster_ip="10.96.0.11"), dry_run=True)
    assert (await services.create(service("real", cluster_ip="10.96.0.11"))).spec.cluster_ip == "10.96.0.11"
