"""The pod network on real node machines (namespaces, one dockerd each), driven by Nodes in a real API server.

Each node's PodNetwork runs in this process against its node's namespace and
dockerd; the Nodes are written through the API as node IPAM and the kubelet
would. Containers on the pod network stand in for pods.
"""
import asyncio
import contextlib
import ipaddress
import socket

import pytest

from controlplane.api.kinds import KINDS

from agent.network import dockerfw, routes
from agent.network.controller import PodNetwork
from agent.network.netns import iproute, run
from agent.network.podbridge import POD_NETWORK
from localcluster import layout
from tests.network.pods import HTTP_PORT, WHO_AM_I, fetch, peer_address, run_pod
from tests.support import polling
from tests.support.cluster import local_cluster

CLUSTER_CIDR = str(layout.CLUSTER_CIDR)   # what the local cluster's node IPAM cuts pod CIDRs from


def pod_cidr(node: str) -> str:
    return f"198.19.{node.removeprefix('node')}.0/24"


@pytest.fixture(scope="module")
def machines():
    with local_cluster(nodes=3, agents=False) as cluster:
        yield cluster


def node_object(cluster, node, *, ip=None, cidr=None):
    return KINDS["Node"].new(metadata={"name": node}, spec={"pod_cidr": cidr or pod_cidr(node)},
                             status={"addresses": [{"type": "InternalIP", "address": ip or cluster.node_ip(node)}]})


async def eventually(check, timeout=15.0):
    """Poll a blocking check (pyroute2, docker) in a worker thread."""
    return await polling.eventually(lambda: asyncio.to_thread(check), timeout=timeout, interval=0.1)


@pytest.fixture
async def network(machines, request):
    """Nodes in the API and every node's PodNetwork running; all removed afterwards.
    The full-pass period is an hour unless a test asks for another (indirect parametrize)."""
    resync = getattr(request, "param", 3600)
    async with machines.client() as client:
        nodes = client.resource("Node")
        for node in machines.nodes:
            await nodes.create(node_object(machines, node))
        networks = {node: PodNetwork(client=client, node_name=node, docker_url=machines.docker_url(node),
                                     cluster_cidr=CLUSTER_CIDR, netns=machines.netns(node), resync_period=resync)
                    for node in machines.nodes}
        tasks = [asyncio.create_task(n.run()) for n in networks.values()]
        try:
            await asyncio.wait_for(asyncio.gather(*(n.ready.wait() for n in networks.values())), 30)
            yield client, networks
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for node in (await nodes.list()).items:
                await nodes.delete(node.metadata.name)
            for node in machines.nodes:
                with machines.docker(node) as api:
                    for container in api.containers(all=True, quiet=True):
                        api.remove_container(container["Id"], force=True)


def node_address(machines, node, command, address):
    """Add or delete an address on the node's uplink (pyroute2's IPRoute is kept off the event loop)."""
    with iproute(machines.netns(node)) as ipr:
        ipr.addr(command, index=ipr.link_lookup(ifname="eth0")[0], address=address, prefixlen=24)


def our_routes(machines, node):
    return routes.current_routes(netns=machines.netns(node))


async def test_each_node_gets_its_pod_bridge_and_routes_to_the_others(machines, network):
    for node in machines.nodes:
        with machines.docker(node) as api:
            config = api.inspect_network(POD_NETWORK)
        assert config["IPAM"]["Config"][0]["Subnet"] == pod_cidr(node)
        assert config["Options"]["com.docker.network.bridge.enable_ip_masquerade"] == "false"
        others = {pod_cidr(o): machines.node_ip(o) for o in machines.nodes if o != node}
        assert await eventually(lambda: our_routes(machines, node) == others)


async def test_a_pod_reaches_a_pod_on_another_node_by_its_ip_with_its_own_address(machines, network):
    with machines.docker("node1") as api1, machines.docker("node3") as api3:
        server_ip = await asyncio.to_thread(run_pod, api3, "server", WHO_AM_I)
        client_ip = await asyncio.to_thread(run_pod, api1, "client")
        assert server_ip.startswith("198.19.3.") and client_ip.startswith("198.19.1.")

        def seen_from():
            code, out = fetch(api1, "client", f"http://{server_ip}:{HTTP_PORT}/cgi-bin/peer")
            return peer_address(out) if code == 0 else None
        assert await eventually(seen_from) == client_ip   # not masqueraded between nodes


async def test_traffic_leaving_the_cluster_cidr_is_masqueraded(machines, network):
    """A pod reaching the host's address arrives from its node's address."""
    listener = socket.socket()
    listener.bind((machines.host_ip, 0))
    listener.listen(1)
    listener.settimeout(15)
    try:
        with machines.docker("node2") as api:
            await asyncio.to_thread(run_pod, api, "leaver",
                                    f"echo hello | nc {machines.host_ip} {listener.getsockname()[1]}; sleep 3600")
            connection, (peer, _) = await asyncio.to_thread(listener.accept)
            connection.close()
        assert peer == machines.node_ip("node2")
    finally:
        listener.close()


async def test_routes_follow_nodes_changing_and_going(machines, network):
    client, _ = network
    nodes = client.resource("Node")
    node3 = await nodes.get("node3")
    moved = str(ipaddress.ip_address(machines.node_ip("node3")) + 10)   # node3 gets a second address
    await asyncio.to_thread(node_address, machines, "node3", "add", moved)
    try:
        node3.status.addresses[0].address = moved
        await nodes.update_status(node3)
        assert await eventually(lambda: our_routes(machines, "node1").get("198.19.3.0/24") == moved)
        await nodes.delete("node2")
        assert await eventually(lambda: set(our_routes(machines, "node1")) == {"198.19.3.0/24"})
        await nodes.create(node_object(machines, "node2", cidr="198.19.22.0/24"))   # re-registered, new podCIDR
        assert await eventually(lambda: set(our_routes(machines, "node1")) == {"198.19.3.0/24", "198.19.22.0/24"})
    finally:
        await asyncio.to_thread(node_address, machines, "node3", "del", moved)


@pytest.mark.parametrize("network", [0.5], indirect=True)
async def test_a_full_pass_puts_back_a_route_someone_deleted(machines, network):
    assert await eventually(lambda: "198.19.2.0/24" in our_routes(machines, "node1"))

    def delete():
        with iproute(machines.netns("node1")) as ipr:
            ipr.route("del", dst="198.19.2.0/24", proto=routes.ROUTE_PROTO)
    await asyncio.to_thread(delete)
    assert "198.19.2.0/24" not in await asyncio.to_thread(our_routes, machines, "node1")
    assert await eventually(lambda: "198.19.2.0/24" in our_routes(machines, "node1"), timeout=5)


async def test_an_unreachable_gateway_skips_only_that_node(machines, network):
    client, _ = network
    await client.resource("Node").create(node_object(machines, "far", ip="198.19.250.9", cidr="198.19.99.0/24"))
    await asyncio.sleep(0.5)
    assert await eventually(lambda: set(our_routes(machines, "node1")) == {"198.19.2.0/24", "198.19.3.0/24"})


def test_a_restarted_agent_prunes_its_stale_routes_and_leaves_others_alone(machines):
    netns = machines.netns("node1")
    gateway = machines.node_ip("node2")
    routes.remove_routes(netns=netns)   # whatever an earlier test's networks left
    with iproute(netns) as ipr:
        ipr.route("replace", dst="198.19.100.0/24", gateway=gateway, proto=routes.ROUTE_PROTO)   # ours, stale
        ipr.route("replace", dst="198.19.240.0/24", gateway=gateway)                               # someone else's
    try:
        result = routes.sync_routes({"198.19.2.0/24": gateway}, netns=netns)
        assert result.removed == ["198.19.100.0/24"] and result.added == ["198.19.2.0/24"]
        with iproute(netns) as ipr:
            assert [r.get("dst") for r in ipr.route("dump", family=2, dst="198.19.240.0/24")] == ["198.19.240.0"]
    finally:
        routes.remove_routes(netns=netns)
        with iproute(netns) as ipr, contextlib.suppress(Exception):
            ipr.route("del", dst="198.19.240.0/24")


async def test_docker_forward_drop_is_opened_for_the_cluster_cidr(machines, network):
    """With FORWARD policy DROP (what dockerd sets when it turns forwarding on itself), cross-node pod
    traffic is dropped unless the DOCKER-USER accepts are there. (No full resync runs meanwhile: the
    fixture's period is an hour, so the removed accepts stay removed until put back here.)"""
    netns = machines.netns("node3")
    assert run(["iptables", "-S", "DOCKER-USER"], netns=netns).returncode == 0   # Docker manages iptables here
    run(["iptables", "-P", "FORWARD", "DROP"], netns=netns)
    try:
        with machines.docker("node1") as api1, machines.docker("node3") as api3:
            server_ip = await asyncio.to_thread(run_pod, api3, "server", WHO_AM_I)
            await asyncio.to_thread(run_pod, api1, "client")
            url = f"http://{server_ip}:{HTTP_PORT}/"
            assert await eventually(lambda: fetch(api1, "client", url)[0] == 0)
            assert dockerfw.remove_docker_user_accept(netns=netns) == 2
            assert (await asyncio.to_thread(fetch, api1, "client", url, seconds=2))[0] != 0
            assert await asyncio.to_thread(dockerfw.ensure_docker_user_accept, CLUSTER_CIDR, netns=netns)
            assert (await asyncio.to_thread(fetch, api1, "client", url))[0] == 0
    finally:
        run(["iptables", "-P", "FORWARD", "ACCEPT"], netns=netns)
