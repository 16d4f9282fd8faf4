"""`cox server` and `cox agent` as processes: the agent killed with -9, the API server gone for 30 s."""
import asyncio
import time

from agent.kubelet.credential import KUBELET_CONFIG
from controlplane.api.wellknown import NODE_LEASE_NAMESPACE
from controlplane.client import load_config
from tests.kubelet.agent_process import AgentProcess
from tests.kubelet.helpers import fetched
from tests.kubelet.test_api_pods import pod
from tests.support.polling import eventually

IMAGE = "coxswain-test/busybox:1"
PROBED = {"containers": [{
    "name": "web", "image": IMAGE, "command": ["sh", "-c", "mkdir -p /www; echo ok > /www/ok; exec httpd -f -p 80 -h /www"],
    "livenessProbe": {"httpGet": {"path": "/ok", "port": 80}, "periodSeconds": 1},
    "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 1}}]}
SLEEPER = {"terminationGracePeriodSeconds": 1, "containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3600"]}]}


async def ready_pods(client, names, *, timeout=40):
    async def probe():
        found = {}
        for name in names:
            p = await client.resource("Pod").get(name, namespace="default")
            if p.status.phase != "Running" or not any(c.type == "Ready" and c.status == "True"
                                                      for c in p.status.conditions):
                return None
            found[name] = p
        return found
    return await eventually(probe, timeout=timeout, what=f"pods {names} Running and Ready")


def docker_started_at(api, container_id):
    return api.inspect_container(container_id.removeprefix("docker://"))["State"]["StartedAt"]


async def test_kill_9_of_the_agent_restarts_no_container(server, agent, api):
    async with server.client() as client:
        for name, spec in (("probed", PROBED), ("sleeper", SLEEPER), ("doomed", SLEEPER)):
            await client.resource("Pod").create(pod(name, spec))
        before = await ready_pods(client, ["probed", "sleeper", "doomed"])
        ids = {n: p.status.container_statuses[0].container_id for n, p in before.items()}
        started = {n: docker_started_at(api, cid) for n, cid in ids.items()}

        agent.kill()
        # While no agent runs: one pod is deleted, and one container of another dies.
        await client.resource("Pod").delete("doomed", namespace="default")
        api.kill(ids["sleeper"].removeprefix("docker://"))
        agent.start()

        after = await ready_pods(client, ["probed"])
        assert after["probed"].status.container_statuses[0].container_id == ids["probed"]
        assert after["probed"].status.container_statuses[0].restart_count == 0
        assert docker_started_at(api, ids["probed"]) == started["probed"], "the adopted container was restarted"

        async def sleeper_restarted():
            p = await client.resource("Pod").get("sleeper", namespace="default")
            c = p.status.container_statuses[0]
            return p if c.restart_count == 1 and c.state.HasField("running") else None
        sleeper = await eventually(sleeper_restarted, timeout=30, what="the killed container reported and restarted")
        assert sleeper.status.container_statuses[0].last_state.terminated.exit_code == 137

        async def doomed_gone():
            return await fetched(client, "Pod", "doomed", "default") is None and \
                not api.containers(all=True, filters={"label": "io.coxswain.pod.name=doomed"})
        await eventually(doomed_gone, timeout=30, what="the pod deleted during the outage finalized and removed")


async def test_pods_survive_30s_without_api_server_and_the_node_comes_back(server, agent, api):
    async with server.client() as client:
        await client.resource("Pod").create(pod("steady", PROBED))
        before = await ready_pods(client, ["steady"])
        container_id = before["steady"].status.container_statuses[0].container_id

    server.stop()
    outage_began = time.time()
    await asyncio.sleep(5)
    agent.kill()     # and the agent restarts while the API server is away: it must not need it to start
    agent.start()
    await asyncio.sleep(25)
    assert api.inspect_container(container_id.removeprefix("docker://"))["State"]["Running"]
    assert agent.proc.poll() is None, f"the agent exited while the API server was away: {agent.log()}"
    server.start()

    async with server.client() as client:
        async def node_ready_again():
            node = await client.resource("Node").get("node1")
            lease = await client.resource("Lease").get("node1", namespace=NODE_LEASE_NAMESPACE)
            ready = next(c for c in node.status.conditions if c.type == "Ready")
            return ready.status == "True" and lease.spec.renew_time.seconds > outage_began + 30
        await eventually(node_ready_again, timeout=40, what="a lease renewed after the outage, node Ready")
        after = await ready_pods(client, ["steady"])
        status = after["steady"].status.container_statuses[0]
        assert status.container_id == container_id and status.restart_count == 0


async def test_an_agent_upgraded_in_place_bootstraps_and_keeps_its_pods(server, agent, api):
    """Before node credentials an agent kept only the join token's config (client.yaml): the same
    agent, restarted without a credential of its own, asks for one and adopts its running pods."""
    async with server.client() as client:
        await client.resource("Pod").create(pod("kept", SLEEPER))
        before = await ready_pods(client, ["kept"])
        container_id = before["kept"].status.container_statuses[0].container_id
        agent.stop()
        (agent.root / KUBELET_CONFIG).unlink()
        for request in (await client.resource("NodeCredentialRequest").list()).items:   # as on the old server
            await client.resource("NodeCredentialRequest").delete(request.metadata.name)
        restarted = time.time()
        agent.start()

        async def renewed_by_the_new_agent():
            lease = await client.resource("Lease").get("node1", namespace=NODE_LEASE_NAMESPACE)
            return (agent.root / KUBELET_CONFIG).exists() and lease.spec.renew_time.seconds > restarted + 1
        await eventually(renewed_by_the_new_agent, timeout=40, what="the restarted agent's credential and Lease")
        assert load_config(agent.root / KUBELET_CONFIG).token.startswith("cox-node:")
        after = await ready_pods(client, ["kept"])
        status = after["kept"].status.container_statuses[0]
        assert status.container_id == container_id and status.restart_count == 0
        assert api.inspect_container(container_id.removeprefix("docker://"))["State"]["Running"]
        (request,) = (await client.resource("NodeCredentialRequest").list()).items
        assert request.spec.node_name == "node1" and request.spec.username == "system:bootstrap:join-token"


async def test_a_second_agent_cannot_take_a_live_nodes_name(server, agent, dockerd, tmp_path):
    async with server.client() as client:
        await eventually(lambda: fetched(client, "Lease", "node1", NODE_LEASE_NAMESPACE), timeout=30,
                         what="node1's Lease")
    token = (server.data_dir / "node-token").read_text().strip()
    impostor = AgentProcess(server=f"127.0.0.1:{server.port}", token=token, dockerd=dockerd,
                            root=tmp_path / "impostor").start()
    try:
        assert impostor.proc.wait(timeout=60) == 1
        assert 'node name "node1" is held by a live node' in impostor.log()
        assert "Traceback" not in impostor.log()
    finally:
        impostor.stop()


async def test_node_lease_duration_sets_the_renewal_period(server, dockerd, tmp_path, runtime):
    """--node-lease-duration-seconds 8: the Lease says 8 s and is renewed every 2 s (by default every 10 s)."""
    token = (server.data_dir / "node-token").read_text().strip()
    agent = AgentProcess(server=f"127.0.0.1:{server.port}", token=token, dockerd=dockerd, root=tmp_path / "agent",
                         extra_args=("--node-lease-duration-seconds", "8")).start()
    try:
        async with server.client() as client:
            leases = client.resource("Lease")

            async def lease():
                found = await fetched(client, "Lease", "node1", NODE_LEASE_NAMESPACE)
                return found and found.spec.renew_time.seconds and found
            first = await eventually(lease, timeout=30, what="the node's Lease")
            assert first.spec.lease_duration_seconds == 8
            renewals = set()
            deadline = time.monotonic() + 7
            while time.monotonic() < deadline:
                current = await leases.get("node1", namespace=NODE_LEASE_NAMESPACE)
                renewals.add((current.spec.renew_time.seconds, current.spec.renew_time.nanos))
                await asyncio.sleep(0.25)
            assert len(renewals) >= 3, f"renewed {len(renewals) - 1} time(s) in 7 s"
    finally:
        agent.stop()
