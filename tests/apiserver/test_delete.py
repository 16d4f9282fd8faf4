"""Deletion: immediate, graceful (pods on a node), held by finalizers, with preconditions."""
import pytest

from controlplane.client import errors
from tests.support.objects import configmap, namespace, pod


async def test_delete_unscheduled_pod_is_immediate(client):
    pods = client.resource("Pod")
    await pods.create(pod("web"))
    await pods.delete("web")
    with pytest.raises(errors.NotFound):
        await pods.get("web")


async def test_delete_scheduled_pod_is_graceful_until_grace_zero(client):
    pods = client.resource("Pod")
    await pods.create(pod("web", node_name="node1", termination_grace_period_seconds=15))
    deleting = await pods.delete("web")
    assert deleting.metadata.HasField("deletion_timestamp")
    assert deleting.metadata.deletion_grace_period_seconds == 15
    still = await pods.get("web")
    assert still.metadata.deletion_grace_period_seconds == 15
    # A shorter grace brings the deadline forward; a longer one does not push it back.
    shorter = await pods.delete("web", grace_period_seconds=5)
    assert shorter.metadata.deletion_grace_period_seconds == 5
    longer = await pods.delete("web", grace_period_seconds=60)
    assert longer.metadata.deletion_grace_period_seconds == 5
    # The kubelet, done with the containers, finishes with grace 0.
    await pods.delete("web", grace_period_seconds=0)
    with pytest.raises(errors.NotFound):
        await pods.get("web")


async def test_status_update_of_deleting_pod_does_not_remove_it(client):
    pods = client.resource("Pod")
    await pods.create(pod("web", node_name="node1"))
    deleting = await pods.delete("web")
    deleting.status.phase = "Running"
    await pods.update_status(deleting)
    assert (await pods.get("web")).status.phase == "Running"


async def test_finalizer_holds_deletion_until_removed(client):
    cms = client.resource("ConfigMap")
    await cms.create(configmap("c", finalizers=["example.com/hold"]))
    held = await cms.delete("c")
    assert held.metadata.HasField("deletion_timestamp")
    current = await cms.get("c")
    del current.metadata.finalizers[:]
    await cms.update(current)
    with pytest.raises(errors.NotFound):
        await cms.get("c")


async def test_foreground_and_orphan_add_their_finalizers(client):
    cms = client.resource("ConfigMap")
    await cms.create(configmap("fg"))
    await cms.create(configmap("or"))
    assert list((await cms.delete("fg", propagation_policy="Foreground")).metadata.finalizers) == ["foregroundDeletion"]
    assert list((await cms.delete("or", propagation_policy="Orphan")).metadata.finalizers) == ["orphan"]
    with pytest.raises(errors.Invalid, match="propagationPolicy"):
        await cms.delete("fg", propagation_policy="Sideways")


async def test_delete_preconditions(client):
    cms = client.resource("ConfigMap")
    created = await cms.create(configmap("c"))
    with pytest.raises(errors.Conflict, match="Precondition failed"):
        await cms.delete("c", uid="not-the-uid")
    with pytest.raises(errors.Conflict):
        await cms.delete("c", resource_version="1")
    await cms.delete("c", uid=created.metadata.uid, resource_version=created.metadata.resource_version)
    with pytest.raises(errors.NotFound):
        await cms.get("c")


async def test_namespace_deletion_is_held_by_its_finalizer(client):
    namespaces = client.resource("Namespace")
    await namespaces.create(namespace("team"))
    deleting = await namespaces.delete("team")
    assert deleting.status.phase == "Terminating"
    with pytest.raises(errors.Forbidden, match="being terminated"):
        await client.resource("ConfigMap").create(configmap("c", namespace="team"))
    ns = await namespaces.get("team")
    del ns.spec.finalizers[:]
    await namespaces.update(ns)
    with pytest.raises(errors.NotFound):
        await namespaces.get("team")
