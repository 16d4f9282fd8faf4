"""The proxy's control loop against a real `cox server`: Services and Endpoints written
through the API end up as rules that carry real traffic in a node namespace."""
import asyncio

import pytest

from controlplane.api.kinds import KINDS
from controlplane.apiserver.kubernetesservice import service_ip
from controlplane.client import InformerFactory

from agent.proxy.controller import ProxyController
from agent.proxy.conntrack import ConntrackCleaner
from agent.proxy.names import SERVICE_IPS, table_name
from agent.proxy.proxier import Proxier
from tests.proxy.nftcli import Nft
from tests.proxy.topology import NODE_IP, PODS, SERVICE_CIDR, NodeWithPods, tcp
from tests.support.control_plane import ServerProcess
from tests.support.netns import Lab, unique_name


@pytest.fixture
def node():
    with Lab() as lab:
        yield NodeWithPods(lab)


@pytest.fixture
def server(tmp_path):
    # No controllers: the test writes Endpoints itself, playing the endpoints controller.
    server = ServerProcess(tmp_path / "data",
                           extra_args=["--disable-controller-manager", "--service-cidr", SERVICE_CIDR]).start()
    yield server
    server.stop()


def endpoints(*pods):
    return KINDS["Endpoints"].new(
        metadata={"name": "web", "namespace": "default"},
        subsets=[{"addresses": [{"ip": PODS[p]} for p in pods], "ports": [{"name": "http", "port": 8080}]}])


async def eventually(check, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await asyncio.to_thread(check)
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.1)


async def test_services_and_endpoints_from_the_api_server_become_rules(node, server):
    node_name = unique_name("node")
    client = server.client()
    await client.resource("Node").create(KINDS["Node"].new(
        metadata={"name": node_name}, status={"addresses": [{"type": "InternalIP", "address": NODE_IP}]}))
    await client.resource("Service").create(KINDS["Service"].new(
        metadata={"name": "web", "namespace": "default"},
        spec={"type": "NodePort", "cluster_ip": "198.19.128.10", "selector": {"app": "web"},
              "ports": [{"name": "http", "port": 80, "target_port": {"number_value": 8080}, "node_port": 30080}]}))
    await client.resource("Endpoints").create(endpoints("b1"))

    table = table_name(node_name)
    proxier = Proxier(table=table, applier=node.applier, conntrack=ConntrackCleaner(netns=node.node.name))
    controller = ProxyController(factory=InformerFactory(client), node_name=node_name, proxier=proxier)
    task = asyncio.create_task(controller.run())
    try:
        assert await eventually(lambda: tcp(node.node, "198.19.128.10", 80, 3) == ["b1"] * 3)
        assert await eventually(lambda: tcp(node.ext, NODE_IP, 30080, 3) == ["b1"] * 3)

        stored = await client.resource("Endpoints").get("web", namespace="default")
        fresh = endpoints("b2", "b3")
        fresh.metadata.resource_version = stored.metadata.resource_version
        await client.resource("Endpoints").update(fresh)
        assert await eventually(lambda: set(tcp(node.node, "198.19.128.10", 80, 30)) == {"b2", "b3"})

        await client.resource("Service").delete("web", namespace="default")

        def unprogrammed():
            """Only the API server's own Service default/kubernetes (the Service CIDR's first address) is left."""
            listing = Nft(node.node.name).list_table(table)
            elements = [item["map"].get("elem", []) for item in listing if item.get("map", {}).get("name") == SERVICE_IPS]
            ips = [{element[0]["concat"][0] for element in found} for found in elements]
            return ips == [{service_ip(SERVICE_CIDR)}]
        assert await eventually(unprogrammed)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.close()
