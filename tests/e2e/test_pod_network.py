"""Pods reach each other by IP across nodes, and find Services by name (cluster DNS)."""
import asyncio

from agent.dns.listen import DEFAULT_ADDRESS
from agent.runtime import labels

from tests.e2e.workloads import HTTP_PORT, HTTPD, deployment, exec_in_pod, pod, ready_endpoints, running_pod, service
from tests.support.polling import eventually


async def test_a_pod_on_node1_reaches_a_pod_on_node3_by_its_ip(cluster):
    async with cluster.client() as client:
        pods = client.resource("Pod")
        await pods.create(pod("p2p-server", node="node3", command=HTTPD))
        await pods.create(pod("p2p-client", node="node1"))
        server = await running_pod(client, "p2p-server")
        caller = await running_pod(client, "p2p-client")
        assert server.status.pod_ip != caller.status.pod_ip

        async def peer():
            code, out = await asyncio.to_thread(
                exec_in_pod, cluster, caller,
                f"timeout 5 wget -q -O- http://{server.status.pod_ip}:{HTTP_PORT}/cgi-bin/peer")
            return out.strip().removeprefix("[::ffff:").removesuffix("]") if code == 0 else None
        # The server sees the client's own pod IP: nothing masquerades pod-to-pod traffic.
        assert await eventually(peer, timeout=20) == caller.status.pod_ip
        for name in ("p2p-server", "p2p-client"):
            await pods.delete(name)


async def test_a_service_answers_by_its_dns_names_from_a_pod(cluster):
    async with cluster.client() as client:
        await client.resource("Deployment").create(deployment("web", replicas=2))
        await client.resource("Service").create(service("web"))
        await client.resource("Pod").create(pod("dns-client", node="node2"))
        caller = await running_pod(client, "dns-client")

        async def two_ready():
            return len(await ready_endpoints(client, "web")) == 2
        assert await eventually(two_ready)
        backends = {p.metadata.name for p in (await client.resource("Pod").list(
            namespace="default", label_selector="app=web")).items}
        for url in ("http://web.default.svc.cluster.local/", "http://web/", "http://web.default/"):
            code, out = await asyncio.to_thread(exec_in_pod, cluster, caller, f"timeout 5 wget -q -O- {url}")
            assert code == 0 and out.strip() in backends, (url, out)
        code, out = await asyncio.to_thread(exec_in_pod, cluster, caller, "timeout 5 wget -q -O- http://nope/")
        assert code != 0 and "bad address" in out
        code, out = await asyncio.to_thread(exec_in_pod, cluster, caller, "cat /etc/resolv.conf")
        assert out.splitlines() == [f"nameserver {DEFAULT_ADDRESS}",   # the node's DNS, not Docker's 127.0.0.11
                                    "search default.svc.cluster.local svc.cluster.local cluster.local",
                                    "options ndots:5"], out
        await client.resource("Service").delete("web", namespace="default")
        await client.resource("Deployment").delete("web", namespace="default")
        await client.resource("Pod").delete("dns-client")


async def test_a_pod_whose_sandbox_died_keeps_its_ip_and_is_reachable_again(cluster):
    """The agent wires sandboxes itself (agent/network/veth.py) with addresses kept per pod (ipam.py):
    a replaced sandbox gets the pod's address back, and the pod answers on it again."""
    async with cluster.client() as client:
        pods = client.resource("Pod")
        await pods.create(pod("keep-ip", node="node2", command=HTTPD))
        await pods.create(pod("keep-ip-client", node="node1"))
        before = await running_pod(client, "keep-ip")
        caller = await running_pod(client, "keep-ip-client")
        with cluster.docker("node2") as api:
            sandbox = api.containers(filters={"label": labels.managed_filter(
                **{labels.POD_UID: before.metadata.uid, labels.KIND: "sandbox"})})[0]
            assert api.inspect_container(sandbox["Id"])["HostConfig"]["NetworkMode"] == "none"
            api.kill(sandbox["Id"])

        async def restarted():
            now = await pods.get("keep-ip", namespace="default")
            main = now.status.container_statuses[0] if now.status.container_statuses else None
            return now if main is not None and main.restart_count >= 1 and main.state.HasField("running") else None
        after = await eventually(restarted, timeout=60, what="keep-ip running again in a new sandbox")
        assert after.status.pod_ip == before.status.pod_ip

        async def answers():
            code, out = await asyncio.to_thread(exec_in_pod, cluster, caller,
                                                f"timeout 5 wget -q -O- http://{after.status.pod_ip}:{HTTP_PORT}/")
            return code == 0 and out.strip() == "keep-ip"
        assert await eventually(answers, timeout=20)
        for name in ("keep-ip", "keep-ip-client"):
            await pods.delete(name)
