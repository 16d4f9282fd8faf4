"""The DaemonSet controller against a real API server: hollow nodes run the pods, the real scheduler
binds them (the controller only pins each pod to its node by affinity)."""
from google.protobuf import struct_pb2

from controlplane.api.kinds import KINDS
from controlplane.controllers import daemonplan
from tests.controllers.support import active_pods, eventually, hollow_nodes, starting_in, template
from tests.support.census import PodCensus
from tests.support.objects import modify, relabel_node


def daemon_set(name="logs", *, image="busybox", surge=None, unavailable=None, strategy="RollingUpdate", **spec):
    ds = KINDS["DaemonSet"].new(metadata={"name": name, "namespace": "default"},
                                spec={"selector": {"match_labels": {"app": name}},
                                      "template": template({"app": name}, image, **spec),
                                      "update_strategy": {"type": strategy}})
    for field, raw in (("max_surge", surge), ("max_unavailable", unavailable)):
        if raw is not None:
            getattr(ds.spec.update_strategy.rolling_update, field).CopyFrom(struct_pb2.Value(number_value=raw))
    return ds


async def rolled_out(api, name, desired):
    ds = await api.get(name)
    return daemonplan.rollout_message(ds)[1] and ds.status.desired_number_scheduled == desired and ds


async def pods_by_node(client, name="logs"):
    return {p.spec.node_name: p for p in await active_pods(client, label_selector=f"app={name}")}


async def test_one_pod_per_node_including_a_node_added_later_and_none_on_a_removed_node(client, manager):
    api = client.resource("DaemonSet")
    async with hollow_nodes(client, ["node-a", "node-b"]):
        await api.create(daemon_set())
        ds = await eventually(lambda: rolled_out(api, "logs", 2))
        assert (ds.status.current_number_scheduled, ds.status.number_ready, ds.status.number_available,
                ds.status.updated_number_scheduled, ds.status.number_misscheduled) == (2, 2, 2, 2, 0)
        placed = await pods_by_node(client)
        assert sorted(placed) == ["node-a", "node-b"]
        assert all(daemonplan.node_of(p) == n for n, p in placed.items())
        async with hollow_nodes(client, ["node-c"]):
            await eventually(lambda: rolled_out(api, "logs", 3), what="a pod on the new node")
            assert sorted(await pods_by_node(client)) == ["node-a", "node-b", "node-c"]
        await client.resource("Node").delete("node-c")
        await eventually(lambda: rolled_out(api, "logs", 2), what="the removed node's pod gone")

        async def only_two():
            return sorted(await pods_by_node(client)) == ["node-a", "node-b"]
        await eventually(only_two)


async def test_node_selector_follows_node_labels(client, manager, nodes):
    api, node_api = client.resource("DaemonSet"), client.resource("Node")
    await api.create(daemon_set(node_selector={"logging": "on"}))
    ds = await eventually(lambda: api.get("logs"))
    assert ds.status.desired_number_scheduled == 0
    await relabel_node(node_api, "node-b", logging="on")
    await eventually(lambda: rolled_out(api, "logs", 1))
    assert list(await pods_by_node(client)) == ["node-b"]
    await relabel_node(node_api, "node-b", logging=None)
    await eventually(lambda: rolled_out(api, "logs", 0))

    async def none_left():
        return not await pods_by_node(client)
    await eventually(none_left)


async def census_of_a_rollout(client, **strategy) -> PodCensus:
    """Roll a 3-node DaemonSet from busybox:1 to busybox:2; the census of its pods during the rollout,
    taken until every node runs busybox:2 alone."""
    api = client.resource("DaemonSet")
    async with hollow_nodes(client, ["node-a", "node-b", "node-c"], program=starting_in(0.3)):
        await api.create(daemon_set(image="busybox:1", **strategy))
        await eventually(lambda: rolled_out(api, "logs", 3))
        async with PodCensus(client, "app=logs", hash_label=daemonplan.REVISION_HASH) as census:
            def change(ds):
                ds.spec.template.spec.containers[0].image = "busybox:2"
            await modify(api, "logs", change)
            await eventually(lambda: rolled_out(api, "logs", 3), timeout=30)

            async def old_ones_gone():
                pods = await active_pods(client, label_selector="app=logs")
                return {p.spec.containers[0].image for p in pods} == {"busybox:2"} and len(pods) == 3
            await eventually(old_ones_gone)
    return census


async def test_rolling_update_keeps_within_max_unavailable(client, manager):
    census = await census_of_a_rollout(client)
    assert census.min_ready >= 2 and census.max_active <= 3


async def test_rolling_update_with_surge_never_leaves_a_node_without_a_ready_pod(client, manager):
    census = await census_of_a_rollout(client, surge=1, unavailable=0)
    assert census.min_ready >= 3 and census.max_active <= 4 and census.templates_together


async def test_on_delete_replaces_only_pods_deleted_by_someone_else(client, manager, nodes):
    api, pod_api = client.resource("DaemonSet"), client.resource("Pod")
    await api.create(daemon_set(image="busybox:1", strategy="OnDelete"))

    async def two_ready():
        ds = await api.get("logs")
        return ds.status.number_ready == 2 and ds
    await eventually(two_ready)
    def change(ds):
        ds.spec.template.spec.containers[0].image = "busybox:2"
    await modify(api, "logs", change)

    async def observed():
        ds = await api.get("logs")
        return ds.status.observed_generation == ds.metadata.generation and ds
    ds = await eventually(observed)
    assert ds.status.updated_number_scheduled == 0
    victim = (await pods_by_node(client))["node-a"]
    await pod_api.delete(victim.metadata.name, namespace="default")

    async def replaced():
        placed = await pods_by_node(client)
        images = {n: p.spec.containers[0].image for n, p in placed.items()}
        return images == {"node-a": "busybox:2", "node-b": "busybox:1"} and images
    await eventually(replaced)
