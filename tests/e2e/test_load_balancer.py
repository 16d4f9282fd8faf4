"""A LoadBalancer Service made by `kubectl create service loadbalancer`, served ServiceLB's way: every
node answers on the Service port at its own address, and the status lists those addresses; with
externalTrafficPolicy Local a node sends outside traffic only to its own pods, which see the client's
address, and its health check node port says which nodes have one."""
import asyncio
import json
import pathlib
import urllib.error
import urllib.request

from controlplane.api import convert

from tests.e2e.test_services import web_app
from tests.support.polling import eventually

KUBECTL_LB = pathlib.Path(__file__).parents[1] / "api/testdata/service-loadbalancer.yaml"  # web, 80 -> 8080


def get(address: str, path: str = "/", port: int = 80) -> str:
    """One request from the host: outside the cluster."""
    try:
        with urllib.request.urlopen(f"http://{address}:{port}{path}", timeout=3) as response:
            return response.read().decode().strip()
    except urllib.error.HTTPError as e:
        return f"status {e.code}"
    except OSError as e:
        return f"error: {e}"


async def test_load_balancer_on_every_node_address_and_local_policy(cluster):
    async with web_app(cluster) as (client, namespace, _, backends, _):
        services = client.resource("Service")
        await services.delete("web", namespace=namespace)  # the ClusterIP one: kubectl's LoadBalancer instead
        (manifest,) = convert.load_manifests(KUBECTL_LB.read_text())
        manifest["metadata"]["namespace"] = namespace
        await services.create(convert.from_manifest(manifest))
        node_ips = sorted(cluster.node_ip(node) for node in cluster.nodes)

        async def shown():
            svc = await services.get("web", namespace=namespace)
            return sorted(i.ip for i in svc.status.load_balancer.ingress) == node_ips and svc
        svc = await eventually(shown, timeout=30, what="the nodes' addresses in status.loadBalancer.ingress")
        assert svc.spec.ports[0].node_port and svc.spec.health_check_node_port == 0

        async def every_node_answers():
            answers = await asyncio.gather(*(asyncio.to_thread(get, ip) for ip in node_ips for _ in range(6)))
            return set(answers) <= backends and answers
        assert await eventually(every_node_answers, timeout=30, what="answers on port 80 of every node")

        svc.spec.external_traffic_policy = "Local"
        svc = await services.update(svc)
        assert 30000 <= svc.spec.health_check_node_port <= 32767
        pods = (await client.resource("Pod").list(namespace=namespace, label_selector="app=web")).items
        local = {node: {p.metadata.name for p in pods if p.spec.node_name == node} for node in cluster.nodes}

        seen = {}

        async def only_local_with_the_client_address():
            for node in cluster.nodes:
                ip = cluster.node_ip(node)
                names = set(await asyncio.gather(*(asyncio.to_thread(get, ip) for _ in range(6))))
                # busybox httpd writes the client address IPv4-mapped: [::ffff:198.18.x.1]
                peers = {peer.strip("[]").removeprefix("::ffff:") for peer in await asyncio.gather(
                    *(asyncio.to_thread(get, ip, "/cgi-bin/peer") for _ in range(3)))}
                seen[node] = (names, peers)
                if local[node]:
                    if not (names <= local[node] and peers == {cluster.host_ip}):
                        return None
                elif not all(answer.startswith("error") for answer in names):  # dropped, not forwarded
                    return None
            return True
        try:
            await eventually(only_local_with_the_client_address, timeout=30)
        except AssertionError:
            raise AssertionError(f"not only local backends seeing {cluster.host_ip}: {local}, last: {seen}") from None
        # the health check node port tells a load balancer in front which nodes have a pod of it
        check = svc.spec.health_check_node_port
        for node in cluster.nodes:
            answer = await asyncio.to_thread(get, cluster.node_ip(node), "/healthz", check)
            if local[node]:
                assert json.loads(answer)["localEndpoints"] == len(local[node]), (node, answer)
            else:
                assert answer == "status 503", (node, answer)
