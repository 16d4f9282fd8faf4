"""Hollow nodes (the test and benchmark tool): registration, heartbeats, the in-memory runtime."""
import asyncio

from controlplane.client import errors
from tests.scheduler.builders import pod
from tests.scheduler.test_scheduler_api import until
from tests.support.hollow import HollowCluster, HollowSpec


async def test_nodes_register_and_heartbeat(client):
    spec = HollowSpec(cpu="8", memory="16Gi", pods="50", labels={"tier": "hollow"},
                      taints=[{"key": "hollow", "value": "yes", "effect": "NoSchedule"}])
    async with HollowCluster(client, 3, spec=spec, zones=2, heartbeat_seconds=0.3) as cluster:
        nodes = {n.metadata.name: n for n in (await client.resource("Node").list()).items}
        assert sorted(nodes) == ["hollow-0", "hollow-1", "hollow-2"]
        node = nodes["hollow-1"]
        assert dict(node.status.allocatable) == {"cpu": "8", "memory": "16Gi", "pods": "50"}
        assert node.metadata.labels["topology.kubernetes.io/zone"] == "zone-1"
        assert node.metadata.labels["tier"] == "hollow" and node.spec.taints[0].key == "hollow"
        assert [c.type for c in node.status.conditions if c.status == "True"] == ["Ready"]
        leases = client.resource("Lease")
        first = (await leases.get("hollow-0", namespace="kube-node-lease")).spec.renew_time
        await until(lambda: _renewed_after(leases, first))

        async def three_rounds():
            return cluster.heartbeats >= 9
        await until(three_rounds)


async def _renewed_after(leases, stamp):
    lease = await leases.get("hollow-0", namespace="kube-node-lease")
    return lease.spec.renew_time.ToNanoseconds() > stamp.ToNanoseconds()


async def test_a_deleted_node_registers_again(client):
    async with HollowCluster(client, 1, heartbeat_seconds=0.2):
        nodes = client.resource("Node")
        await nodes.delete("hollow-0")

        async def back():
            try:
                return await nodes.get("hollow-0")
            except errors.NotFound:
                return None
        assert await until(back)


async def test_pods_run_and_graceful_deletions_finish(client):
    pods = client.resource("Pod")
    async with HollowCluster(client, 1):
        await pods.create(pod("p", node_name="hollow-0"))

        async def running():
            current = await pods.get("p")
            return current if current.status.phase == "Running" else None
        status = (await until(running)).status
        assert status.pod_ip.startswith("10.0.") and status.container_statuses[0].ready
        deleting = await pods.delete("p")                  # graceful: 30 s by default
        assert deleting.metadata.HasField("deletion_timestamp")

        async def gone():
            try:
                await pods.get("p")
            except errors.NotFound:
                return True
        assert await until(gone, timeout=5)


async def test_without_run_pods_nothing_watches_pods(client):
    pods = client.resource("Pod")
    async with HollowCluster(client, 1, run_pods=False):
        await pods.create(pod("p", node_name="hollow-0"))
        await asyncio.sleep(0.3)
        assert (await pods.get("p")).status.phase == "Pending"
