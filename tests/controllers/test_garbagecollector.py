"""The garbage collector: background, foreground and orphan deletion against a real API server."""
from controlplane.client import errors
from controlplane.controllers import rollout
from tests.controllers.support import deployment, eventually
from tests.support.objects import configmap


async def converged(api, name):
    return rollout.rollout_message(await api.get(name))[1]


async def counts(client):
    rss = (await client.resource("ReplicaSet").list(namespace="default")).items
    pods = (await client.resource("Pod").list(namespace="default")).items
    return len(rss), len(pods)


async def test_deleting_a_deployment_removes_its_replica_sets_and_pods(client, manager, nodes):
    api = client.resource("Deployment")
    await api.create(deployment("web", 3))
    await eventually(lambda: converged(api, "web"))
    assert await counts(client) == (1, 3)
    await api.delete("web")

    async def all_gone():
        return await counts(client) == (0, 0)
    await eventually(all_gone)


async def test_foreground_deletion_keeps_the_owner_until_its_dependents_are_gone(client, manager, nodes):
    api = client.resource("Deployment")
    await api.create(deployment("web", 3))
    await eventually(lambda: converged(api, "web"))
    deleting = await api.delete("web", propagation_policy="Foreground")
    assert "foregroundDeletion" in deleting.metadata.finalizers and deleting.metadata.HasField("deletion_timestamp")
    seen_waiting = False

    async def owner_gone():
        nonlocal seen_waiting
        try:
            await api.get("web")
        except errors.NotFound:
            return True
        seen_waiting = True
        return False
    await eventually(owner_gone)
    assert await counts(client) == (0, 0)      # the owner went last
    assert seen_waiting


async def test_orphan_deletion_leaves_the_dependents_without_owner(client, manager, nodes):
    api, rs_api = client.resource("Deployment"), client.resource("ReplicaSet")
    await api.create(deployment("web", 2))
    await eventually(lambda: converged(api, "web"))
    await api.delete("web", propagation_policy="Orphan")

    async def orphaned():
        try:
            await api.get("web")
            return False
        except errors.NotFound:
            rss = (await rs_api.list(namespace="default")).items
            return len(rss) == 1 and not rss[0].metadata.owner_references and rss
    await eventually(orphaned)
    rs = (await rs_api.list(namespace="default")).items[0]
    assert rs.status.replicas == 2                 # its pods stay, still owned by the ReplicaSet
    await rs_api.delete(rs.metadata.name, propagation_policy="Orphan")

    async def pods_freed():
        pods = (await client.resource("Pod").list(namespace="default")).items
        return len(pods) == 2 and all(not p.metadata.owner_references for p in pods)
    await eventually(pods_freed)


async def test_an_object_whose_owner_never_existed_is_collected_and_one_with_a_live_owner_kept(client, manager):
    cms = client.resource("ConfigMap")
    owner = await cms.create(configmap("owner"))
    ref = {"api_version": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    await cms.create(configmap("kept", owner_references=[ref]))
    await cms.create(configmap("stray", owner_references=[dict(ref, name="ghost", uid="no-such-uid")]))

    async def stray_gone():
        names = {c.metadata.name for c in (await cms.list(namespace="default")).items}
        return "stray" not in names and names
    names = await eventually(stray_gone)
    assert {"owner", "kept"} <= names
    await cms.delete("owner")

    async def kept_gone():
        return "kept" not in {c.metadata.name for c in (await cms.list(namespace="default")).items}
    await eventually(kept_gone)


async def test_a_dependent_with_another_live_owner_loses_only_the_dead_reference(client, manager):
    cms = client.resource("ConfigMap")
    a = await cms.create(configmap("a"))
    b = await cms.create(configmap("b"))
    refs = [{"api_version": "v1", "kind": "ConfigMap", "name": o.metadata.name, "uid": o.metadata.uid} for o in (a, b)]
    await cms.create(configmap("shared", owner_references=refs))
    await cms.delete("a")

    async def one_owner_left():
        shared = await cms.get("shared")
        return [r.name for r in shared.metadata.owner_references] == ["b"]
    await eventually(one_owner_left)
