"""Node IPAM and node lifecycle: pod CIDRs, a silent node going Unknown, eviction, recovery."""
import asyncio
import ipaddress

from controlplane.api.kinds import KINDS
from controlplane.controllers import nodelifecycle as nl
from controlplane.controllers import pods as podutil
from tests.controllers.support import active_pods, deployment, eventually, hollow_nodes, running_manager


async def test_nodes_get_distinct_pod_cidrs_from_the_cluster_cidr(client):
    async with running_manager(client, controllers=("nodeipam",), cluster_cidr="10.99.0.0/20",
                               node_cidr_mask_size=24):
        async with hollow_nodes(client, ["n1", "n2", "n3"]):
            async def assigned():
                nodes = (await client.resource("Node").list()).items
                return all(n.spec.pod_cidr for n in nodes) and nodes
            nodes = await eventually(assigned)
    cidrs = [ipaddress.ip_network(n.spec.pod_cidr) for n in nodes]
    assert len(set(cidrs)) == 3
    assert all(c.subnet_of(ipaddress.ip_network("10.99.0.0/20")) and c.prefixlen == 24 for c in cidrs)
    assert all(list(n.spec.pod_cidrs) == [n.spec.pod_cidr] for n in nodes)


async def test_a_silent_node_goes_unknown_is_tainted_and_its_pods_move(client):
    options = dict(node_monitor_period=0.2, node_monitor_grace_period=1.5, node_eviction_rate=10.0)
    async with running_manager(client, **options), hollow_nodes(client, heartbeat_seconds=0.2) as hollow:
        await client.resource("Deployment").create(tolerating("web", 4, seconds=2))

        async def spread():
            pods = await active_pods(client, label_selector="app=web")
            ready = [p for p in pods if podutil.is_ready(p)]
            return len(ready) == 4 and {p.spec.node_name for p in ready} == {"node-a", "node-b"} and pods
        before = await eventually(spread)
        on_a = {p.metadata.name for p in before if p.spec.node_name == "node-a"}
        await hollow.stop_node("node-a")
        nodes = client.resource("Node")

        async def unknown_and_tainted():
            node = await nodes.get("node-a")
            return nl.ready_status(node) == "Unknown" and \
                {(t.key, t.effect) for t in node.spec.taints} == {(nl.UNREACHABLE_TAINT, "NoExecute"),
                                                                   (nl.UNREACHABLE_TAINT, "NoSchedule")} and node
        node = await eventually(unknown_and_tainted, timeout=10)
        assert all(c.status == "Unknown" for c in node.status.conditions)

        async def moved():
            pods = await active_pods(client, label_selector="app=web")
            ready = [p for p in pods if podutil.is_ready(p)]
            return len(ready) == 4 and all(p.spec.node_name == "node-b" for p in ready) and pods
        await eventually(moved, timeout=15)
        evicted = [p for p in (await client.resource("Pod").list(namespace="default")).items
                   if p.metadata.name in on_a]
        assert evicted and all(p.metadata.HasField("deletion_timestamp") for p in evicted)
        events = (await client.resource("Event").list(namespace="default")).items
        assert {"NodeNotReady", "TaintManagerEviction"} <= {e.reason for e in events}
        await hollow.start_node("node-a")

        async def healthy_again():
            node = await nodes.get("node-a")
            return nl.ready_status(node) == "True" and not node.spec.taints
        await eventually(healthy_again, timeout=10)

        async def evicted_pods_finished():  # by the returning agent
            pods = (await client.resource("Pod").list(namespace="default")).items
            return not any(p.metadata.name in on_a for p in pods)
        await eventually(evicted_pods_finished, timeout=10)


async def test_a_node_that_never_reported_is_not_tainted_before_the_startup_grace(client):
    async with running_manager(client, controllers=("nodelifecycle",), node_monitor_period=0.1,
                               node_monitor_grace_period=0.3, node_startup_grace_period=30):
        await client.resource("Node").create(KINDS["Node"].new(metadata={"name": "fresh"}))
        await asyncio.sleep(1.0)
        node = await client.resource("Node").get("fresh")
        assert not node.spec.taints and not node.status.conditions


async def test_when_every_node_goes_silent_nothing_is_evicted(client):
    """All nodes down at once looks like the control plane's network failing, not the nodes: wait.

    The nodes stop one after the other, so the first may be tainted NoExecute
    while the second still looks alive; when the second goes too, the taint
    is taken back before the pods' 5 s toleration runs out.
    """
    options = dict(node_monitor_period=0.2, node_monitor_grace_period=1.0, node_eviction_rate=10.0)
    async with running_manager(client, **options), hollow_nodes(client, heartbeat_seconds=0.2) as hollow:
        await client.resource("Deployment").create(tolerating("web", 2, seconds=5))
        await eventually(lambda: _ready(client, 2))
        await hollow.stop_node("node-a")
        await hollow.stop_node("node-b")

        async def both_unknown():
            nodes = (await client.resource("Node").list()).items
            return all(nl.ready_status(n) == "Unknown" for n in nodes) and nodes
        await eventually(both_unknown, timeout=10)

        async def none_evicting():
            nodes = (await client.resource("Node").list()).items
            return not any(t.effect == "NoExecute" for n in nodes for t in n.spec.taints)
        await eventually(none_evicting, timeout=3)
        await asyncio.sleep(6.0)  # past the toleration of a taint that had been put on
        nodes = (await client.resource("Node").list()).items
        assert not any(t.effect == "NoExecute" for n in nodes for t in n.spec.taints)
        pods = (await client.resource("Pod").list(namespace="default")).items
        assert len(pods) == 2 and not any(p.metadata.HasField("deletion_timestamp") for p in pods)


async def _ready(client, n):
    pods = await active_pods(client, label_selector="app=web")
    return len([p for p in pods if podutil.is_ready(p)]) == n


def tolerating(name, replicas, *, seconds):
    """A Deployment whose pods tolerate an unreachable node for `seconds`."""
    d = deployment(name, replicas)
    d.spec.template.spec.tolerations.add(key=nl.UNREACHABLE_TAINT, operator="Exists", effect="NoExecute",
                                         toleration_seconds=seconds)
    return d
