"""Each rule through a real API server: the pod waits with the rule's FailedScheduling reason,
and is scheduled as soon as the cluster event that lets it fit arrives (no polling: the back-off
is short here, and the parked-pod safety net is five minutes away)."""
from tests.scheduler.builders import node, pod
from tests.scheduler.test_scheduler_api import bound_to, failed_scheduling, running


async def _update_node(client, name, change):
    nodes = client.resource("Node")
    current = await nodes.get(name)
    change(current)
    await nodes.update(current)


async def test_node_selector_waits_for_a_label(client):
    await client.resource("Node").create(node("n1"))
    async with running(client):
        await client.resource("Pod").create(pod("p", node_selector={"disk": "ssd"}))
        assert (await failed_scheduling(client, "p")).startswith(
            "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.")
        await _update_node(client, "n1", lambda n: n.metadata.labels.update({"disk": "ssd"}))
        assert await bound_to(client, "p") == "n1"


async def test_a_toleration_waits_for_the_taint_to_go(client):
    await client.resource("Node").create(node("n1", taints=[{"key": "maintenance", "effect": "NoExecute"}]))
    async with running(client):
        await client.resource("Pod").create(pod("p"))
        assert (await failed_scheduling(client, "p")).startswith(
            "0/1 nodes are available: 1 node(s) had untolerated taint {maintenance: }.")
        await _update_node(client, "n1", lambda n: n.spec.ClearField("taints"))
        assert await bound_to(client, "p") == "n1"


async def test_pod_affinity_waits_for_the_pod_it_follows(client):
    await client.resource("Node").create(node("n1", labels={"zone": "a"}))
    await client.resource("Node").create(node("n2", labels={"zone": "b"}))
    affinity = {"pod_affinity": {"required_during_scheduling_ignored_during_execution": [
        {"label_selector": {"match_labels": {"app": "cache"}}, "topology_key": "zone"}]}}
    async with running(client):
        await client.resource("Pod").create(pod("web", affinity=affinity))
        assert (await failed_scheduling(client, "web")).startswith(
            "0/2 nodes are available: 2 node(s) didn't match pod affinity rules.")
        await client.resource("Pod").create(pod("cache", labels={"app": "cache"}, node_name="n2"))
        assert await bound_to(client, "web") == "n2"


async def test_spread_waits_for_a_new_domain(client):
    await client.resource("Node").create(node("a1", labels={"zone": "a"}))
    spread = [{"max_skew": 1, "topology_key": "zone", "when_unsatisfiable": "DoNotSchedule",
               "label_selector": {"match_labels": {"app": "web"}}}]
    await client.resource("Node").create(node("b1", labels={"zone": "b"}, unschedulable=True))
    async with running(client):
        for i in range(2):
            await client.resource("Pod").create(pod(f"w{i}", labels={"app": "web"}, node_name="a1"))
        await client.resource("Pod").create(pod("p", labels={"app": "web"}, topology_spread_constraints=spread))
        assert (await failed_scheduling(client, "p")).startswith(
            "0/2 nodes are available: 1 node(s) didn't match pod topology spread constraints, "
            "1 node(s) were unschedulable.")
        await client.resource("Node").create(node("c1", labels={"zone": "c"}))
        assert await bound_to(client, "p") == "c1"


async def test_a_host_port_waits_for_its_holder_to_go(client):
    await client.resource("Node").create(node("n1"))
    port = [{"container_port": 80, "host_port": 8080}]
    pods = client.resource("Pod")
    async with running(client):
        await pods.create(pod("holder", ports=port, node_name="n1", termination_grace_period_seconds=0))
        await pods.create(pod("p", ports=port))
        assert (await failed_scheduling(client, "p")).startswith(
            "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.")
        await pods.delete("holder")
        assert await bound_to(client, "p") == "n1"
