"""Endpoints follow the pods a Service selects, and their readiness."""
from google.protobuf import struct_pb2

from controlplane.api.kinds import KINDS
from tests.controllers.support import deployment, eventually


def service(name, selector, target):
    svc = KINDS["Service"].new(metadata={"name": name, "namespace": "default", "labels": {"team": "a"}},
                               spec={"selector": selector})
    svc.spec.ports.add(name="http", port=80).target_port.CopyFrom(struct_pb2.Value(string_value=target))
    return svc


async def test_endpoints_list_ready_pods_with_named_ports_and_follow_readiness(client, manager, nodes):
    d = deployment("web", 2)
    d.spec.template.spec.containers[0].ports.add(name="web", container_port=8080)
    await client.resource("Deployment").create(d)
    await client.resource("Service").create(service("web", {"app": "web"}, "web"))
    api = client.resource("Endpoints")

    async def two_ready():
        try:
            ep = await api.get("web")
        except Exception:
            return None
        return len(ep.subsets) == 1 and len(ep.subsets[0].addresses) == 2 and ep
    ep = await eventually(two_ready)
    assert [(p.name, p.port, p.protocol) for p in ep.subsets[0].ports] == [("http", 8080, "TCP")]
    assert dict(ep.metadata.labels) == {"team": "a"}
    pods = client.resource("Pod")
    target = ep.subsets[0].addresses[0].target_ref.name
    pod = await pods.get(target)
    for c in pod.status.conditions:
        if c.type == "Ready":
            c.status = "False"
    await pods.update_status(pod)

    async def moved():
        ep = await api.get("web")
        return [a.target_ref.name for a in ep.subsets[0].not_ready_addresses] == [target] and \
            len(ep.subsets[0].addresses) == 1
    await eventually(moved, timeout=10.0)   # the watch event moves it; nothing else would (no resync)
    await client.resource("Service").delete("web")

    async def removed():   # the API server's own default/kubernetes stays
        return [e.metadata.name for e in (await api.list(namespace="default")).items] == ["kubernetes"]
    await eventually(removed)


async def test_an_external_name_service_gets_no_endpoints(client, manager, nodes):
    """kubectl's `create service externalname` gives it a selector; it is an alias all the same."""
    d = deployment("search", 1)
    d.spec.template.spec.containers[0].ports.add(name="http", container_port=8080)
    await client.resource("Deployment").create(d)
    await client.resource("Service").create(KINDS["Service"].new(
        metadata={"name": "search", "namespace": "default"},
        spec={"type": "ExternalName", "external_name": "www.example.com", "selector": {"app": "search"}}))
    await client.resource("Service").create(service("beside", {"app": "search"}, "http"))
    api = client.resource("Endpoints")

    async def beside_has_the_pod():
        return [e for e in (await api.list(namespace="default")).items if e.metadata.name == "beside"
                and e.subsets and e.subsets[0].addresses]
    await eventually(beside_has_the_pod)
    assert "search" not in {e.metadata.name for e in (await api.list(namespace="default")).items}
