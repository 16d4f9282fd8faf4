"""Static pods on a kubelet with no API server: the pod from the issue, end to end on Docker."""
import ipaddress

from agent.runtime.types import Kind, State
from tests.kubelet.helpers import container, reported, until, write_pod
from tests.support.polling import eventually

WEB_POD = {
    "volumes": [{"name": "shared", "emptyDir": {}}],
    "containers": [
        {"name": "writer", "image": "coxswain-test/busybox:1",
         "command": ["sh", "-c", "echo hello from $(POD_NAME) > /data/index.html; exec sleep 3600"],
         "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
         "volumeMounts": [{"name": "shared", "mountPath": "/data"}]},
        {"name": "server", "image": "coxswain-test/busybox:1",
         "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
         "ports": [{"containerPort": 8080}],
         "volumeMounts": [{"name": "shared", "mountPath": "/www", "readOnly": True}]},
    ],
}


def running(status):
    return status.phase == "Running" and status.pod_ip and all(c.state.HasField("running")
                                                                 for c in status.container_statuses)


async def test_two_container_pod_shares_network_and_volume(kubelet, manifests, runtime, dockerd):
    write_pod(manifests, "web", WEB_POD)
    status = await until(kubelet, "web", running, what="web pod Running with a pod IP")
    assert ipaddress.ip_address(status.pod_ip) in dockerd.subnet
    assert [c.restart_count for c in status.container_statuses] == [0, 0]
    conditions = {c.type: c.status for c in status.conditions}
    assert conditions == {"PodScheduled": "True", "PodReadyToStartContainers": "True", "Initialized": "True",
                          "ContainersReady": "True", "Ready": "True"}

    writer = container(status, "writer").container_id.removeprefix("docker://")

    async def fetched():
        result = await runtime.streams.exec(writer, ["wget", "-q", "-O", "-", "http://localhost:8080/index.html"],
                                            timeout=5)
        return result.output if result.exit_code == 0 else None

    body = await eventually(fetched, what="the file served over the pod's localhost")
    assert body == b"hello from web-node1\n"


async def test_removing_the_manifest_removes_the_pod(kubelet, manifests, runtime):
    write_pod(manifests, "brief", {"containers": [{"name": "c", "image": "coxswain-test/busybox:1",
                                                   "command": ["sleep", "3600"]}],
                                   "terminationGracePeriodSeconds": 1})
    await until(kubelet, "brief", running)
    uid = next(p.metadata.uid for p, _ in kubelet.status.statuses.values() if p.metadata.name == "brief-node1")
    assert {c.kind for c in await runtime.containers.list(pod_uid=uid)} == {Kind.SANDBOX, Kind.APP}
    (manifests / "brief.yaml").unlink()

    async def gone():
        return await runtime.containers.list(pod_uid=uid) == [] and not kubelet.ctx.volumes.pod_dir(uid).exists()
    await eventually(gone, what="the pod's containers and directory removed")


async def test_host_network_pod_uses_the_node_address(kubelet, manifests, runtime, dockerd):
    write_pod(manifests, "hostnet", {"hostNetwork": True, "containers": [
        {"name": "c", "image": "coxswain-test/busybox:1", "command": ["sleep", "3600"]}]})
    status = await until(kubelet, "hostnet", running, what="a host-network pod Running")
    assert status.pod_ip == dockerd.gateway, "a host-network pod's IP is its node's"
    container_id = container(status, "c").container_id.removeprefix("docker://")
    result = await runtime.streams.exec(container_id, ["ip", "-o", "addr"], timeout=5)
    assert f"inet {dockerd.gateway}/" in result.output.decode(), "it sees the node's own interfaces"
