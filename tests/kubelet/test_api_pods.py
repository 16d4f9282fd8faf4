"""The kubelet joined to a real API server: pods bound to the node run, report status, and go."""
import asyncio
import time
from dataclasses import replace

from controlplane.api import convert
from controlplane.api.wellknown import NODE_LEASE_NAMESPACE
from tests.kubelet.conftest import NODE, running_kubelet
from tests.kubelet.helpers import fetched
from tests.kubelet.test_static_pods import WEB_POD, running
from tests.support.control_plane import free_port
from tests.support.polling import eventually

IMAGE = "coxswain-test/busybox:1"


def pod(name: str, spec: dict, **metadata):
    """A pod bound to the test node. No service account token: these tests run no controller to make it
    (the kubelet would wait for the Secret, as Kubernetes' does); the process tests run `cox server`, which does."""
    return convert.from_manifest({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, **metadata},
                                  "spec": {"nodeName": NODE, "automountServiceAccountToken": False, **spec}})


async def api_status(client, name: str, check, *, timeout: float = 30.0, what: str = ""):
    async def probe():
        found = await client.resource("Pod").get(name, namespace="default")
        return found if check(found.status) else None
    return await eventually(probe, timeout=timeout, what=what or f"pod {name}")


async def test_pod_runs_and_reports_through_the_api(joined, client, runtime, dockerd):
    await client.resource("Pod").create(pod("web", WEB_POD))
    found = await api_status(client, "web", running, what="web Running in the API")
    assert found.status.pod_ip and found.status.host_ip == dockerd.gateway
    assert found.status.qos_class == "BestEffort"
    writer = next(c for c in found.status.container_statuses if c.name == "writer").container_id
    result = await runtime.streams.exec(writer.removeprefix("docker://"),
                                        ["wget", "-q", "-O", "-", "http://localhost:8080/index.html"], timeout=5)
    assert result.output == b"hello from web\n"

    async def story():
        events = (await client.resource("Event").list(namespace="default")).items
        reasons = [e.reason for e in events if e.involved_object.name == "web"]
        return reasons if {"Pulled", "Created", "Started"} <= set(reasons) else None
    reasons = await eventually(story, what="Pulled, Created, Started events")
    assert reasons.count("Started") == 2


async def test_node_registers_and_heartbeats(joined, client):
    node = await eventually(lambda: fetched(client, "Node", NODE), what="the Node")
    assert node.metadata.labels["kubernetes.io/hostname"] == NODE
    assert node.metadata.labels["kubernetes.io/os"] == "linux"
    assert int(node.status.capacity["cpu"]) >= 1 and node.status.allocatable["pods"] == "110"
    conditions = {c.type: c.status for c in node.status.conditions}
    assert conditions["Ready"] == "True" and conditions["MemoryPressure"] == "False"
    assert node.status.node_info.container_runtime_version.startswith("docker://20.")
    lease = await eventually(lambda: fetched(client, "Lease", NODE, NODE_LEASE_NAMESPACE), what="the node's Lease")
    first = lease.spec.renew_time
    await asyncio.sleep(2.5)
    lease = await client.resource("Lease").get(NODE, namespace=NODE_LEASE_NAMESPACE)
    assert (lease.spec.renew_time.seconds, lease.spec.renew_time.nanos) > (first.seconds, first.nanos)

    await client.resource("Node").delete(NODE)
    await eventually(lambda: fetched(client, "Node", NODE), what="the Node registered again after deletion")


async def test_graceful_delete_honours_sigterm_and_the_grace_period(joined, client):
    polite = pod("polite", {"terminationGracePeriodSeconds": 20, "containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]}]})
    stubborn = pod("stubborn", {"terminationGracePeriodSeconds": 3, "containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"]}]})
    for p in (polite, stubborn):
        await client.resource("Pod").create(p)
    for name in ("polite", "stubborn"):
        await api_status(client, name, running)

    async def timed_delete(name):
        began = time.monotonic()
        await client.resource("Pod").delete(name, namespace="default")

        async def gone():
            return await fetched(client, "Pod", name, "default") is None
        await eventually(gone, timeout=40, what=f"{name} deleted")
        return time.monotonic() - began

    polite_took, stubborn_took = await asyncio.gather(timed_delete("polite"), timed_delete("stubborn"))
    assert polite_took < 5, f"a pod that exits on SIGTERM took {polite_took:.1f}s"
    assert 3 <= stubborn_took < 10, f"a pod ignoring SIGTERM with 3s grace took {stubborn_took:.1f}s"

    async def containers_removed():
        return [c for c in await joined.runtime.containers.list() if c.pod.name in ("polite", "stubborn")] == []
    await eventually(containers_removed, what="the deleted pods' containers removed")


async def test_events_tell_the_story_of_probes_and_crashes(joined, client):
    await client.resource("Pod").create(pod("story", {"terminationGracePeriodSeconds": 1, "containers": [
        {"name": "sick", "image": IMAGE, "command": ["sleep", "3600"],
         "livenessProbe": {"exec": {"command": ["false"]}, "periodSeconds": 1, "failureThreshold": 1}},
        {"name": "crashy", "image": IMAGE, "command": ["sh", "-c", "exit 1"]}]}))

    async def told():
        events = [e for e in (await client.resource("Event").list(namespace="default")).items
                  if e.involved_object.name == "story"]
        seen = {(e.reason, e.message) for e in events}
        wanted = {("Killing", "Container sick failed liveness probe, will be restarted"),
                  ("BackOff", "Back-off restarting failed container"), ("Started", "Started container crashy")}
        return events if wanted <= seen and "Unhealthy" in {reason for reason, _ in seen} else None
    events = await eventually(told, timeout=40, what="Unhealthy, Killing and BackOff events")
    killing = next(e for e in events if e.reason == "Killing")
    assert killing.source.component == "kubelet" and killing.source.host == NODE
    started = next(e for e in events if e.reason == "Started" and e.message == "Started container crashy")
    assert started.count >= 2, "repeated events are counted, not duplicated"


async def test_node_labels_taints_and_host_ports(kubelet_config, runtime, node_client, client, dockerd, tmp_path):
    config = replace(kubelet_config, node_ip=dockerd.gateway, listen=f"{dockerd.gateway}:0",
                     node_labels={"tier": "edge"}, register_with_taints=("dedicated=web:NoSchedule",))
    async with running_kubelet(config, runtime, node_client, dockerd.gateway, tmp_path):
        node = await eventually(lambda: fetched(client, "Node", NODE), what="the Node")
        assert node.metadata.labels["tier"] == "edge"
        assert [(t.key, t.value, t.effect) for t in node.spec.taints] == [("dedicated", "web", "NoSchedule")]

        port = free_port()
        await client.resource("Pod").create(pod("published", {"containers": [{
            "name": "web", "image": IMAGE, "command": ["sh", "-c", "echo hi > /tmp/i; exec httpd -f -p 80 -h /tmp"],
            "ports": [{"containerPort": 80, "hostPort": port, "hostIP": "127.0.0.1"}]}]}))
        await api_status(client, "published", running)

        async def served():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return None
            writer.write(b"GET /i HTTP/1.0\r\n\r\n")
            answer = await reader.read()
            writer.close()
            return answer if answer.endswith(b"hi\n") else None
        await eventually(served, what="the pod answering on its hostPort")
