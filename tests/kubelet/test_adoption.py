"""A kubelet that restarts adopts what runs, and removes what is no longer wanted."""
from agent.kubelet.kubelet import Kubelet
from tests.kubelet.helpers import container, until, write_pod
from tests.support.polling import eventually

IMAGE = "coxswain-test/busybox:1"
SLEEPER = {"containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3600"]}],
           "terminationGracePeriodSeconds": 1}


def running(status):
    return status.phase == "Running" and container(status, "c").state.HasField("running")


async def test_restarted_kubelet_adopts_running_pods(kubelet_config, runtime, manifests, dockerd):
    first = Kubelet(kubelet_config, runtime, host_ip=dockerd.gateway)
    await first.start()
    write_pod(manifests, "stay", SLEEPER)
    write_pod(manifests, "leave", SLEEPER)
    try:
        before = await until(first, "stay", running)
        await until(first, "leave", running)
    finally:
        await first.stop()
    leave_uid = next(p.metadata.uid for p, _ in first.status.statuses.values() if p.metadata.name == "leave-node1")
    (manifests / "leave.yaml").unlink()      # goes away while no kubelet runs

    second = Kubelet(kubelet_config, runtime, host_ip=dockerd.gateway)
    await second.start()
    try:
        after = await until(second, "stay", running, what="the adopted pod reported Running")
        assert container(after, "c").container_id == container(before, "c").container_id
        assert container(after, "c").restart_count == 0
        assert after.pod_ip == before.pod_ip

        async def orphan_removed():
            return await runtime.containers.list(pod_uid=leave_uid) == [] and \
                not second.ctx.volumes.pod_dir(leave_uid).exists()
        await eventually(orphan_removed, what="the orphaned pod's containers and directory removed")
    finally:
        await second.stop()
