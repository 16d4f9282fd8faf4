"""Pod GC: pods bound to a node that is gone, and finished pods beyond the threshold, are deleted."""
import asyncio

from controlplane.api.kinds import KINDS
from controlplane.client import errors
from tests.controllers.support import eventually, running_manager
from tests.support.objects import pod


async def _bound_pod(client, name: str, node: str):
    return await client.resource("Pod").create(pod(name, node_name=node))


async def _names(client) -> set[str]:
    return {p.metadata.name for p in (await client.resource("Pod").list(namespace="default")).items}


async def test_pods_of_a_deleted_node_are_deleted_after_the_quarantine(client):
    nodes = client.resource("Node")
    await nodes.create(KINDS["Node"].new(metadata={"name": "gone"}))
    await nodes.create(KINDS["Node"].new(metadata={"name": "stays"}))
    await _bound_pod(client, "on-gone", "gone")
    await _bound_pod(client, "on-stays", "stays")
    # A graceful delete the absent kubelet would never finish:
    await client.resource("Pod").delete("on-gone", namespace="default", grace_period_seconds=30)
    async with running_manager(client, controllers=("podgc",), pod_gc_quarantine=1.0):
        await nodes.delete("gone")
        await asyncio.sleep(0.5)
        assert "on-gone" in await _names(client), "deleted before the quarantine ended"

        async def orphan_gone():
            return "on-gone" not in (names := await _names(client)) and names
        assert await eventually(orphan_gone, timeout=10) == {"on-stays"}

        async def recorded():   # the recorder writes Events in the background
            events = (await client.resource("Event").list(namespace="default")).items
            return any(e.reason == "PodGC" and e.involved_object.name == "on-gone" for e in events)
        assert await eventually(recorded, timeout=10)


async def test_a_node_that_comes_back_within_the_quarantine_keeps_its_pods(client):
    nodes = client.resource("Node")
    await nodes.create(KINDS["Node"].new(metadata={"name": "flaky"}))
    await _bound_pod(client, "kept", "flaky")
    async with running_manager(client, controllers=("podgc",), pod_gc_quarantine=1.5):
        await nodes.delete("flaky")
        await nodes.create(KINDS["Node"].new(metadata={"name": "flaky"}))   # re-registered
        await asyncio.sleep(2.5)
        assert "kept" in await _names(client)


async def test_the_oldest_finished_pods_beyond_the_threshold_are_deleted(client):
    await client.resource("Node").create(KINDS["Node"].new(metadata={"name": "n1"}))
    pods = client.resource("Pod")
    for i in range(5):
        created = await _bound_pod(client, f"done-{i}", "n1")
        created.status.phase = "Succeeded" if i % 2 else "Failed"
        await pods.update_status(created)
        await asyncio.sleep(1.05)   # creationTimestamp has one-second steps: make the age order certain
    await _bound_pod(client, "running", "n1")
    async with running_manager(client, controllers=("podgc",), terminated_pod_gc_threshold=2):
        async def trimmed():
            return len(names := await _names(client)) == 3 and names
        assert await eventually(trimmed, timeout=10) == {"done-3", "done-4", "running"}


async def test_a_force_delete_spares_a_new_pod_of_the_same_name(client):
    """The delete carries the old pod's uid: a pod re-created meanwhile is a different pod."""
    await _bound_pod(client, "reborn", "nowhere")
    old = await client.resource("Pod").get("reborn", namespace="default")
    await client.resource("Pod").delete("reborn", namespace="default", grace_period_seconds=0)
    await _bound_pod(client, "reborn", "nowhere-else")
    try:
        await client.resource("Pod").delete("reborn", namespace="default", grace_period_seconds=0,
                                            uid=old.metadata.uid)
        raise AssertionError("deleted a pod with another uid")
    except errors.Conflict:
        pass
    assert "reborn" in await _names(client)
