"""A Deployment of busybox httpd replicas behind a Service, reached from pods on every node and from outside."""
import asyncio
import contextlib
import re
import secrets
import time
import urllib.request

from controlplane.api.kinds import KINDS

from tests.e2e.workloads import deployment, exec_in_pod, pod, ready_endpoints, requests_loop, running_pod, service
from tests.support.polling import eventually
from tests.support.objects import modify

REPLICAS = 3


@contextlib.asynccontextmanager
async def web_app(cluster, *, kind="ClusterIP"):
    """A namespace of its own with Deployment `web` (3 ready replicas), Service `web` and one client pod
    pinned to each node; yields (client, namespace, service, backend pod names, {node: client pod})."""
    namespace = f"e2e-{secrets.token_hex(3)}"
    async with cluster.client() as client:
        await client.resource("Namespace").create(KINDS["Namespace"].new(metadata={"name": namespace}))
        try:
            await client.resource("Deployment").create(deployment("web", replicas=REPLICAS, namespace=namespace))
            svc = await client.resource("Service").create(service("web", namespace=namespace, kind=kind))
            for node in cluster.nodes:
                await client.resource("Pod").create(pod(f"client-{node}", node=node, namespace=namespace))
            callers = {node: await running_pod(client, f"client-{node}", namespace) for node in cluster.nodes}

            async def all_ready():
                return len(await ready_endpoints(client, "web", namespace)) == REPLICAS
            assert await eventually(all_ready), "the web replicas never all became ready endpoints"
            backends = {p.metadata.name for p in (await client.resource("Pod").list(
                namespace=namespace, label_selector="app=web")).items}
            yield client, namespace, svc, backends, callers
        finally:
            await client.resource("Namespace").delete(namespace)


async def scale(client, namespace, replicas):
    deployments = client.resource("Deployment")
    def change(current):
        current.spec.replicas = replicas
    await modify(deployments, "web", change, namespace=namespace)


async def test_requests_from_every_node_reach_all_backends(cluster):
    async with web_app(cluster) as (_, _, svc, backends, callers):
        url = f"http://{svc.spec.cluster_ip}/"
        outputs = await asyncio.gather(*(asyncio.to_thread(exec_in_pod, cluster, caller, requests_loop(url, 100))
                                         for caller in callers.values()))
        for node, (code, out) in zip(callers, outputs):
            answers = out.split()
            assert code == 0 and len(answers) == 100 and "FAIL" not in answers, (node, out[-500:])
            assert set(answers) == backends, node


async def test_a_backend_reaches_itself_through_its_service(cluster):
    """Hairpin: the proxy masquerades the flow and the bridge port sends it back where it came from."""
    async with web_app(cluster) as (client, namespace, svc, backends, _):
        backend = await running_pod(client, sorted(backends)[0], namespace)
        code, out = await asyncio.to_thread(exec_in_pod, cluster, backend,
                                            requests_loop(f"http://{svc.spec.cluster_ip}/", 30))
        answers = out.split()
        assert code == 0 and "FAIL" not in answers and backend.metadata.name in answers, out[-500:]


async def test_the_node_port_answers_on_every_node_address(cluster):
    async with web_app(cluster, kind="NodePort") as (_, _, svc, backends, _):
        node_port = svc.spec.ports[0].node_port
        assert 30000 <= node_port <= 32767

        def get(address):
            with urllib.request.urlopen(f"http://{address}:{node_port}/", timeout=5) as response:
                return response.read().decode().strip()
        for node in cluster.nodes:   # from the host: outside the cluster
            answers = {await asyncio.to_thread(get, cluster.node_ip(node)) for _ in range(12)}
            assert answers <= backends and answers, node


async def test_scaled_to_zero_refuses_at_once_and_scaled_back_answers_within_seconds(cluster):
    async with web_app(cluster) as (client, namespace, svc, _, callers):
        caller = callers["node2"]
        url = f"http://{svc.spec.cluster_ip}/"
        await scale(client, namespace, 0)

        async def no_endpoints():
            return await ready_endpoints(client, "web", namespace) == []
        assert await eventually(no_endpoints)
        # uptime before and after, in the pod: the request's own duration, without exec's overhead
        timed = (f"s=$(cut -d' ' -f1 /proc/uptime); timeout 5 wget -q -O- {url} 2>&1; rc=$?; "
                 f"echo; echo timing $rc $s $(cut -d' ' -f1 /proc/uptime)")

        async def refused():
            code, out = await asyncio.to_thread(exec_in_pod, cluster, caller, timed)
            return out if "refused" in out else None
        out = await eventually(refused, timeout=10, what="requests refused once the Service had no endpoints")
        rc, start, end = re.search(r"timing (\d+) ([\d.]+) ([\d.]+)", out).groups()
        assert rc != "0" and float(end) - float(start) < 1.0, out   # refused at once, not a 5 s timeout

        started = time.monotonic()
        await scale(client, namespace, REPLICAS)

        async def answered():
            code, _ = await asyncio.to_thread(exec_in_pod, cluster, caller, f"timeout 2 wget -q -O- {url}")
            return code == 0
        assert await eventually(answered, timeout=30, interval=0.05)
        print(f"scaled back: first answer {time.monotonic() - started:.2f}s after the scale request")


async def test_no_request_fails_once_a_deleted_backends_endpoint_is_gone(cluster):
    async with web_app(cluster) as (client, namespace, svc, _, callers):
        caller = callers["node1"]
        url = f"http://{svc.spec.cluster_ip}/"
        # Requests in a loop in the pod, each line: the uptime it started at, then ok or fail.
        loop = (f"while :; do s=$(cut -d' ' -f1 /proc/uptime); "
                f"if timeout 2 wget -q -O /dev/null {url}; then echo $s ok; else echo $s fail; fi; done > /tmp/log")
        await asyncio.to_thread(exec_in_pod, cluster, caller, f"({loop}) >/dev/null 2>&1 &")
        await asyncio.sleep(1)
        victim = (await client.resource("Pod").list(namespace=namespace, label_selector="app=web")).items[0]
        await client.resource("Pod").delete(victim.metadata.name, namespace=namespace)

        async def gone_everywhere():
            """Out of the Endpoints, and out of the caller node's proxy rules."""
            if victim.status.pod_ip in await ready_endpoints(client, "web", namespace):
                return None
            rules = await asyncio.to_thread(cluster.run_in_node, "node1", ["nft", "list", "table", "ip",
                                                                          "coxswain-proxy-node1"])
            return None if victim.status.pod_ip in rules else float(open("/proc/uptime").read().split()[0])
        gone_at = await eventually(gone_everywhere, timeout=30, interval=0.05)
        assert gone_at, "the deleted pod's endpoint never went away"
        await asyncio.sleep(3)
        _, log = await asyncio.to_thread(exec_in_pod, cluster, caller, "cat /tmp/log")
        after = [line.split()[1] for line in log.splitlines() if len(line.split()) == 2
                 and float(line.split()[0]) > gone_at]
        assert len(after) >= 10, log[-500:]
        assert after.count("fail") == 0, log[-2000:]
