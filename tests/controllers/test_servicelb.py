"""The service load balancer controller: the Ready nodes' addresses in a LoadBalancer Service's status
(plan() alone, then the controller against an API server with hollow nodes)."""
import pathlib

from controlplane.api import convert
from controlplane.api.kinds import KINDS
from controlplane.controllers.servicelb import EXCLUDE_LABEL, plan
from tests.controllers.support import eventually, hollow_nodes, running_manager

KUBECTL_LB = pathlib.Path(__file__).parents[1] / "api/testdata/service-loadbalancer.yaml"  # kubectl create service


def node(name, ip, *, ready="True", **labels):
    return KINDS["Node"].new(metadata={"name": name, "labels": labels}, status={
        "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
        "conditions": [{"type": "Ready", "status": ready}]})


def service(name, *, type="LoadBalancer", port=80, created=0, cls="", protocol="TCP"):
    return KINDS["Service"].new(
        metadata={"name": name, "namespace": "default", "creation_timestamp": {"seconds": created}},
        spec={"type": type, "load_balancer_class": cls, "ports": [{"port": port, "protocol": protocol}]})


NODES = [node("n1", "198.18.0.11"), node("n2", "198.18.0.12"), node("n3", "198.18.0.13", ready="False"),
         node("n4", "198.18.0.14", **{EXCLUDE_LABEL: ""})]


def test_ready_nodes_internal_addresses_for_our_classes():
    wanted, blocked = plan([service("web"), service("ours", port=81, cls="coxswain.io/servicelb"),
                            service("metal", port=82, cls="example.com/metallb")], NODES)
    assert wanted == {("default", "web"): ["198.18.0.11", "198.18.0.12"],
                      ("default", "ours"): ["198.18.0.11", "198.18.0.12"]}  # another class: not ours to write
    assert blocked == {}


def test_the_older_service_keeps_a_port_the_newer_waits():
    older, newer = service("a", created=10), service("b", created=20)
    udp = service("c", created=30, protocol="UDP")  # 80/UDP is another port
    wanted, blocked = plan([newer, older, udp], NODES)
    assert wanted[("default", "a")] == wanted[("default", "c")] == ["198.18.0.11", "198.18.0.12"]
    assert wanted[("default", "b")] == [] and blocked == {("default", "b"): ("default", "a")}
    wanted, _ = plan([newer, udp], NODES)  # a deleted: its port moves on
    assert wanted[("default", "b")] == ["198.18.0.11", "198.18.0.12"]


def test_a_service_already_served_keeps_its_port_before_an_older_one():
    older, served = service("a", created=10), service("b", created=20)
    served.status.load_balancer.ingress.add(ip="198.18.0.11")
    wanted, blocked = plan([older, served], NODES)
    assert wanted[("default", "a")] == [] and blocked == {("default", "a"): ("default", "b")}


def test_a_service_that_is_no_load_balancer_any_more_loses_its_addresses():
    was = service("web", type="ClusterIP")
    was.status.load_balancer.ingress.add(ip="198.18.0.11")
    assert plan([was], NODES)[0] == {("default", "web"): []}


async def test_status_follows_the_ready_nodes(client):
    """kubectl's manifest as it is; a second Service on the same port waits for the first; a node that
    stops answering its heartbeats leaves the status when the node lifecycle controller marks it."""
    (manifest,) = convert.load_manifests(KUBECTL_LB.read_text())
    services = client.resource("Service")
    options = dict(controllers=("servicelb", "nodelifecycle"), node_monitor_period=0.2,
                   node_monitor_grace_period=1.5)
    async with running_manager(client, **options), hollow_nodes(client, heartbeat_seconds=0.2) as hollow:
        await services.create(convert.from_manifest(manifest))
        foreign = service("elsewhere", port=443, cls="example.com/metallb")
        await services.create(foreign)

        async def addresses(name, expected):
            svc = await services.get(name)
            return [i.ip for i in svc.status.load_balancer.ingress] == expected and svc
        web = await eventually(lambda: addresses("web", ["198.18.0.1", "198.18.0.2"]))
        assert web.spec.ports[0].node_port and web.spec.external_traffic_policy == "Cluster"
        await services.create(service("second"))  # created in the same second, maybe: the served one stays
        await eventually(lambda: addresses("second", []))
        await hollow.stop_node("node-a")
        await eventually(lambda: addresses("web", ["198.18.0.2"]))
        await services.delete("web")
        await eventually(lambda: addresses("second", ["198.18.0.2"]))
        events = (await client.resource("Event").list(namespace="default")).items
        assert any(e.reason == "PortInUse" and e.involved_object.name == "second" for e in events)
        assert list((await services.get("elsewhere")).status.load_balancer.ingress) == []
