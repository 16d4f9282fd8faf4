"""Deleting a namespace empties it, then removes it."""
from controlplane.client import errors
from controlplane.controllers import rollout
from tests.controllers.support import deployment, eventually
from tests.support.objects import configmap, namespace


async def test_deleting_a_namespace_deletes_everything_in_it(client, manager, nodes):
    await client.resource("Namespace").create(namespace("team"))
    deployments = client.resource("Deployment")
    await deployments.create(deployment("web", 2, namespace="team"))
    await client.resource("ConfigMap").create(configmap("settings", namespace="team"))

    async def running():
        return rollout.rollout_message(await deployments.get("web", namespace="team"))[1]
    await eventually(running)
    deleted = await client.resource("Namespace").delete("team")
    assert deleted.status.phase == "Terminating"

    await eventually(lambda: namespace_gone(client, "team"), timeout=30)
    for kind in ("Pod", "ReplicaSet", "Deployment", "ConfigMap", "ServiceAccount", "Secret"):
        assert not (await client.resource(kind).list(namespace="team")).items, kind


async def test_nothing_new_may_be_created_while_it_terminates(client, manager):
    await client.resource("Namespace").create(namespace("closing"))
    cms = client.resource("ConfigMap")
    cm = configmap("held", namespace="closing")
    cm.metadata.finalizers.append("example.com/hold")
    await cms.create(cm)
    await client.resource("Namespace").delete("closing")

    async def reported():
        ns = await client.resource("Namespace").get("closing")
        return any(c.type == "NamespaceContentRemaining" for c in ns.status.conditions) and ns
    ns = await eventually(reported)
    assert "configmaps has 1" in ns.status.conditions[0].message
    try:
        await cms.create(configmap("late", namespace="closing"))
        raise AssertionError("created in a terminating namespace")
    except errors.Forbidden:
        pass
    held = await cms.get("held", namespace="closing")
    held.metadata.ClearField("finalizers")
    await cms.update(held)

    await eventually(lambda: namespace_gone(client, "closing"), timeout=30)


async def namespace_gone(client, name):
    try:
        await client.resource("Namespace").get(name)
        return False
    except errors.NotFound:
        return True
