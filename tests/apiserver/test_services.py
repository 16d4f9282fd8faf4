"""ClusterIP and NodePort allocation: unique under concurrency, kept on update, freed on delete; what
LoadBalancer and ExternalName Services hold."""
import asyncio
import ipaddress

import pytest

from controlplane.api.kinds import KINDS
from controlplane.client import errors
from tests.support.control_plane import admin_client, running_apiserver


def service(name, *, type="ClusterIP", cluster_ip="", ports=((80, 0),), **spec):
    return KINDS["Service"].new(metadata={"name": name}, spec={
        "type": type, "cluster_ip": cluster_ip, "selector": {"app": name},
        "ports": [{"name": f"p{port}", "port": port, "node_port": node_port} for port, node_port in ports], **spec})


async def test_concurrent_creates_get_distinct_ips_in_range(client):
    services = client.resource("Service")
    created = await asyncio.gather(*(services.create(service(f"s{i}")) for i in range(40)))
    ips = [s.spec.cluster_ip for s in created]
    assert len(set(ips)) == 40
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/12") for ip in ips)
    assert all(list(s.spec.cluster_ips) == [s.spec.cluster_ip] for s in created)


async def test_requested_ip_is_honoured_once(client):
    services = client.resource("Service")
    dns = await services.create(service("dns", cluster_ip="10.96.0.10"))
    assert dns.spec.cluster_ip == "10.96.0.10"
    with pytest.raises(errors.Invalid, match="spec.clusterIP.*already allocated"):
        await services.create(service("dns2", cluster_ip="10.96.0.10"))
    with pytest.raises(errors.Invalid, match="spec.clusterIP.*not in the valid range"):
        await services.create(service("far", cluster_ip="192.168.1.1"))
    # Besides the API server's own `kubernetes` Service, only the first was made.
    assert {s.metadata.name for s in (await services.list()).items} == {"dns", "kubernetes"}


async def test_headless_service_gets_no_ip(client):
    headless = await client.resource("Service").create(service("db", cluster_ip="None"))
    assert headless.spec.cluster_ip == "None" and list(headless.spec.cluster_ips) == ["None"]


async def test_delete_frees_the_ip_and_ports(client):
    services = client.resource("Service")
    first = await services.create(service("web", type="NodePort", cluster_ip="10.96.0.5", ports=((80, 30080),)))
    await services.delete("web")
    again = await services.create(service("web2", type="NodePort", cluster_ip="10.96.0.5", ports=((80, 30080),)))
    assert again.spec.cluster_ip == first.spec.cluster_ip and again.spec.ports[0].node_port == 30080


async def test_node_ports_unique_and_explicit_conflict_changes_nothing(client):
    services = client.resource("Service")
    a = await services.create(service("a", type="NodePort", ports=((80, 0), (443, 0))))
    ports = [p.node_port for p in a.spec.ports]
    assert len(set(ports)) == 2 and all(30000 <= p <= 32767 for p in ports)
    with pytest.raises(errors.Invalid, match=r"spec.ports\[0\].nodePort.*already allocated"):
        await services.create(service("b", type="NodePort", cluster_ip="10.96.0.7", ports=((80, ports[0]),)))
    # The refused create gave back the ClusterIP it had taken.
    c = await services.create(service("c", cluster_ip="10.96.0.7"))
    assert c.spec.cluster_ip == "10.96.0.7"


async def test_reapplied_manifest_keeps_ip_and_node_ports(client):
    services = client.resource("Service")
    created = await services.create(service("web", type="NodePort", ports=((80, 0),)))
    reapplied = service("web", type="NodePort", ports=((80, 0), (8443, 0)))  # no clusterIP, no nodePorts
    updated = await services.update(reapplied)
    assert updated.spec.cluster_ip == created.spec.cluster_ip
    assert updated.spec.ports[0].node_port == created.spec.ports[0].node_port
    assert updated.spec.ports[1].node_port and updated.spec.ports[1].node_port != updated.spec.ports[0].node_port


async def test_type_change_frees_node_ports(client):
    services = client.resource("Service")
    created = await services.create(service("web", type="NodePort", ports=((80, 0),)))
    port = created.spec.ports[0].node_port
    as_cluster_ip = await services.update(service("web"))
    assert as_cluster_ip.spec.ports[0].node_port == 0
    other = await services.create(service("other", type="NodePort", ports=((80, port),)))
    assert other.spec.ports[0].node_port == port


async def test_load_balancer_node_ports_and_health_check_port(client):
    services = client.resource("Service")
    lb = await services.create(service("lb", type="LoadBalancer", ports=((80, 0), (443, 0))))
    assert lb.spec.allocate_load_balancer_node_ports and lb.spec.external_traffic_policy == "Cluster"
    assert all(30000 <= p.node_port <= 32767 for p in lb.spec.ports) and lb.spec.health_check_node_port == 0
    bare = await services.create(service("bare", type="LoadBalancer", allocate_load_balancer_node_ports=False))
    assert bare.spec.ports[0].node_port == 0 and bare.spec.cluster_ip
    local = await services.create(service("local", type="LoadBalancer", external_traffic_policy="Local"))
    check = local.spec.health_check_node_port
    assert 30000 <= check <= 32767 and check != local.spec.ports[0].node_port
    # re-applied unchanged: the same ports; to the Cluster policy: the health check port is given back
    again = await services.update(service("local", type="LoadBalancer", external_traffic_policy="Local"))
    assert again.spec.health_check_node_port == check
    cluster = await services.update(service("local", type="LoadBalancer"))
    assert cluster.spec.health_check_node_port == 0
    taker = await services.create(service("taker", type="NodePort", ports=((80, check),)))
    assert taker.spec.ports[0].node_port == check


async def test_external_name_holds_no_address_and_keeps_its_type(client):
    services = client.resource("Service")
    alias = await services.create(service("alias", type="ExternalName", ports=(), external_name="db.example.com"))
    assert alias.spec.cluster_ip == "" and not alias.spec.cluster_ips and alias.spec.external_name == "db.example.com"
    with pytest.raises(errors.Invalid, match="spec.type: may not change from 'ExternalName' to 'ClusterIP'"):
        await services.update(service("alias"))
    await services.create(service("c", type="LoadBalancer", load_balancer_class="example.com/lb"))
    with pytest.raises(errors.Invalid, match="spec.loadBalancerClass: field is immutable"):
        await services.update(service("c", type="LoadBalancer", load_balancer_class="example.com/other"))


async def test_repair_frees_leaked_allocations(tmp_path):
    async with running_apiserver(tmp_path / "data", repair_seconds=0.2) as server:
        ips = server.service_allocation._ips
        await ips.allocate("uid-of-a-service-never-written", "10.96.0.9")  # as a crash would leave it
        async with admin_client(server) as client:
            for _ in range(100):
                if "10.96.0.9" not in await ips.holders():
                    break
                await asyncio.sleep(0.1)
            created = await client.resource("Service").create(service("web", cluster_ip="10.96.0.9"))
            assert created.spec.cluster_ip == "10.96.0.9"
