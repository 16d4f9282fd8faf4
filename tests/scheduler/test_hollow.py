"""Hollow nodes (the test and benchmark tool): real kubelets over the in-memory runtime."""
import asyncio

from agent.runtime.hollow import Program
from controlplane.client import errors
from tests.scheduler import builders
from tests.support.polling import eventually
from tests.support.hollow import HollowNodes, NodeShape


async def test_nodes_register_and_heartbeat(client):
    shape = NodeShape(cpu="8", memory="16Gi", pods=50, labels={"tier": "hollow"}, taints=("hollow=yes:NoSchedule",))
    async with HollowNodes(client, 3, shape=shape, zones=2, heartbeat_seconds=0.3) as nodes:
        found = {n.metadata.name: n for n in (await client.resource("Node").list()).items}
        assert sorted(found) == ["hollow-0", "hollow-1", "hollow-2"]
        node = found["hollow-1"]
        assert dict(node.status.allocatable) == {"cpu": "8", "memory": "16Gi", "pods": "50"}
        assert node.metadata.labels["topology.kubernetes.io/zone"] == "zone-1"
        assert node.metadata.labels["tier"] == "hollow" and node.spec.taints[0].key == "hollow"
        assert [c.type for c in node.status.conditions if c.status == "True"] == ["Ready"]
        assert node.status.node_info.container_runtime_version.endswith("+hollow")
        leases = client.resource("Lease")
        first = (await eventually(lambda: _lease(leases))).spec.renew_time
        await eventually(lambda: _renewed_after(leases, first))

        async def three_rounds():
            return nodes.heartbeats >= 9
        await eventually(three_rounds)


async def _lease(leases):
    try:
        return await leases.get("hollow-0", namespace="kube-node-lease")
    except errors.NotFound:   # made by the first heartbeat, just after registration
        return None


async def _renewed_after(leases, stamp):
    lease = await leases.get("hollow-0", namespace="kube-node-lease")
    return lease.spec.renew_time.ToNanoseconds() > stamp.ToNanoseconds()


async def test_a_deleted_node_registers_again(client):
    async with HollowNodes(client, 1, heartbeat_seconds=0.2):
        nodes = client.resource("Node")
        await nodes.delete("hollow-0")

        async def back():
            try:
                return await nodes.get("hollow-0")
            except errors.NotFound:
                return None
        assert await eventually(back)


def pod(name, **spec):
    """No service account token: no controller manager here makes the Secret it would mount."""
    return builders.pod(name, automount_service_account_token=False, **spec)


async def _phase(client, name, phase):
    current = await client.resource("Pod").get(name)
    return current if current.status.phase == phase else None


async def test_pods_run_and_graceful_deletions_finish(client):
    pods = client.resource("Pod")
    async with HollowNodes(client, 1):
        await pods.create(pod("p", node_name="hollow-0"))
        status = (await eventually(lambda: _phase(client, "p", "Running"))).status
        assert status.pod_ip.startswith("198.19.") and status.container_statuses[0].ready
        assert status.container_statuses[0].container_id.startswith("docker://")
        deleting = await pods.delete("p")                  # graceful: 30 s by default
        assert deleting.metadata.HasField("deletion_timestamp")

        async def gone():
            try:
                await pods.get("p")
            except errors.NotFound:
                return True
        assert await eventually(gone, timeout=5)


async def test_container_programs_decide_what_pods_do(client):
    """Exit codes end pods Succeeded or Failed; an exec readiness probe's answer keeps one unready."""
    def program(config):
        return {"ok": Program(exit_code=0, run_seconds=0.2), "fail": Program(exit_code=3, run_seconds=0.2),
                "unready": Program(exec_exit_code=1)}[config.command[0]]
    pods = client.resource("Pod")
    async with HollowNodes(client, 1, program=program):
        for name in ("ok", "fail", "unready"):
            made = pod(name, node_name="hollow-0", restart_policy="Never")
            made.spec.containers[0].command[:] = [name]
            made.spec.containers[0].readiness_probe.exec.command[:] = ["ready"]
            await pods.create(made)
        assert await eventually(lambda: _phase(client, "ok", "Succeeded"))
        failed = await eventually(lambda: _phase(client, "fail", "Failed"))
        assert failed.status.container_statuses[0].state.terminated.exit_code == 3
        unready = await eventually(lambda: _phase(client, "unready", "Running"))
        await asyncio.sleep(1.5)   # a probe period and more: still not ready
        unready = await pods.get("unready")
        assert not unready.status.container_statuses[0].ready
        assert {c.type: c.status for c in unready.status.conditions}["Ready"] == "False"


async def test_a_restarted_agent_adopts_its_containers(client):
    pods = client.resource("Pod")
    async with HollowNodes(client, 1) as nodes:
        await pods.create(pod("p", node_name="hollow-0"))
        before = (await eventually(lambda: _phase(client, "p", "Running"))).status.container_statuses[0]
        await nodes.stop_node("hollow-0")
        await nodes.start_node("hollow-0")
        await asyncio.sleep(1.0)
        after = (await pods.get("p")).status.container_statuses[0]
        assert (after.container_id, after.restart_count) == (before.container_id, 0)


async def test_without_run_pods_nothing_watches_pods(client):
    pods = client.resource("Pod")
    async with HollowNodes(client, 1, run_pods=False):
        await pods.create(pod("p", node_name="hollow-0"))
        await asyncio.sleep(0.3)
        assert (await pods.get("p")).status.phase == "Pending"
