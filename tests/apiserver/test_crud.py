"""Create, get, list, update and delete through a real API server and SQLite store."""
import asyncio

import pytest

from controlplane.api.wellknown import NODE_LEASE_NAMESPACE
from controlplane.client import errors
from tests.support.objects import configmap, namespace, pod


async def test_create_get_list_pod(client):
    pods = client.resource("Pod")
    created = await pods.create(pod("web"))
    assert created.metadata.uid and created.metadata.resource_version
    assert created.metadata.namespace == "default"
    assert created.status.phase == "Pending"
    assert created.spec.restart_policy == "Always"  # defaulted
    got = await pods.get("web")
    assert got == created
    listing = await pods.list(namespace="default")
    assert [p.metadata.name for p in listing.items] == ["web"]
    assert int(listing.metadata.resource_version) >= int(created.metadata.resource_version)


async def test_create_existing_is_already_exists_and_changes_nothing(client):
    pods = client.resource("Pod")
    first = await pods.create(pod("web"))
    with pytest.raises(errors.AlreadyExists, match='pods "web" already exists'):
        await pods.create(pod("web", image="other"))
    assert (await pods.get("web")) == first


async def test_generate_name(client):
    cms = client.resource("ConfigMap")
    obj = configmap("", generate_name="job-")
    a = await cms.create(obj)
    b = await cms.create(obj)
    assert a.metadata.name.startswith("job-") and len(a.metadata.name) == len("job-") + 5
    assert a.metadata.name != b.metadata.name


async def test_get_missing_is_not_found(client):
    with pytest.raises(errors.NotFound, match='pods "nope" not found'):
        await client.resource("Pod").get("nope")


async def test_invalid_pod_rejected_naming_field_and_nothing_stored(client):
    pods = client.resource("Pod")
    bad = pod("web")
    bad.spec.containers[0].image = ""
    with pytest.raises(errors.Invalid, match=r"spec\.containers\[0\]\.image"):
        await pods.create(bad)
    assert list((await pods.list()).items) == []


async def test_namespace_must_exist(client):
    with pytest.raises(errors.NotFound, match='namespaces "ghost" not found'):
        await client.resource("Pod").create(pod("web", namespace="ghost"))
    await client.resource("Namespace").create(namespace("ghost"))
    assert (await client.resource("Pod").create(pod("web", namespace="ghost"))).metadata.namespace == "ghost"


async def test_cluster_scoped_kind_rejects_namespace(client):
    node = client.resource("Node").kind.new(metadata={"name": "n1", "namespace": "default"})
    with pytest.raises(errors.Invalid, match="cluster-scoped"):
        await client.resource("Node").create(node)


async def test_stale_update_is_conflict_and_changes_nothing(client):
    cms = client.resource("ConfigMap")
    v1 = await cms.create(configmap("c", data={"a": "1"}))
    v2 = v1.__class__()
    v2.CopyFrom(v1)
    v2.data["a"] = "2"
    v2 = await cms.update(v2)
    stale = v1.__class__()
    stale.CopyFrom(v1)
    stale.data["a"] = "3"
    with pytest.raises(errors.Conflict, match="the object has been modified"):
        await cms.update(stale)
    assert (await cms.get("c")).data["a"] == "2"
    assert int(v2.metadata.resource_version) > int(v1.metadata.resource_version)


async def test_unconditional_update_applies(client):
    cms = client.resource("ConfigMap")
    await cms.create(configmap("c", data={"a": "1"}))
    blind = configmap("c", data={"a": "9"})  # no resourceVersion: apply to whatever is current
    assert (await cms.update(blind)).data["a"] == "9"


async def test_update_keeps_system_fields_and_ignores_status(client):
    pods = client.resource("Pod")
    created = await pods.create(pod("web"))
    change = pods.kind.message()
    change.CopyFrom(created)
    change.metadata.labels["tier"] = "front"
    change.metadata.uid = "forged"
    change.status.phase = "Running"
    updated = await pods.update(change)
    assert updated.metadata.labels["tier"] == "front"
    assert updated.metadata.uid == created.metadata.uid
    assert updated.status.phase == "Pending"


async def test_update_status_changes_only_status(client):
    pods = client.resource("Pod")
    created = await pods.create(pod("web"))
    change = pods.kind.message()
    change.CopyFrom(created)
    change.status.phase = "Running"
    change.metadata.labels["sneaky"] = "yes"
    updated = await pods.update_status(change)
    assert updated.status.phase == "Running"
    assert "sneaky" not in updated.metadata.labels


async def test_generation_counts_spec_changes_only(client):
    deployments = client.resource("Deployment")
    d = deployments.kind.new(metadata={"name": "web"}, spec={
        "selector": {"match_labels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "c", "image": "busybox"}]}}})
    d = await deployments.create(d)
    assert d.metadata.generation == 1
    d.metadata.labels["x"] = "y"
    d = await deployments.update(d)
    assert d.metadata.generation == 1
    d.spec.replicas = 3
    d = await deployments.update(d)
    assert d.metadata.generation == 2


async def test_concurrent_creates_of_one_name_one_wins(client):
    cms = client.resource("ConfigMap")
    results = await asyncio.gather(*(cms.create(configmap("race", data={"i": str(i)})) for i in range(10)),
                                   return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, errors.AlreadyExists) for r in results if isinstance(r, Exception))


async def test_system_namespaces_exist(client):
    names = {ns.metadata.name for ns in (await client.resource("Namespace").list()).items}
    assert {"default", "kube-system", "kube-public", NODE_LEASE_NAMESPACE} <= names
