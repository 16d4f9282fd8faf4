"""`cox scheduler`, `cox cordon`, `cox uncordon`, `cox drain` as processes against a real API server."""
import asyncio
import signal

from controlplane.client import ClientConfig
from tests.scheduler.builders import node, pod
from tests.scheduler.test_scheduler_api import bound_to, running
from tests.support.control_plane import cox_command, cox_env
from tests.support.hollow import HollowNodes


def _client_config(apiserver, tmp_path):
    path = tmp_path / "admin.yaml"
    creds = apiserver.credentials
    ClientConfig(server=apiserver.address, ca=creds.ca_pem.decode(), token=creds.admin_token).write(path)
    return path


async def cox(tmp_path, *args) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(*cox_command(*args), env=cox_env(tmp_path),
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), err.decode()


async def test_cox_scheduler_schedules_and_stops_on_sigterm(apiserver, client, tmp_path):
    config = _client_config(apiserver, tmp_path)
    settings = tmp_path / "scheduler.yaml"
    settings.write_text(f"apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
                        f"clientConnection: {{kubeconfig: {config}}}\n"
                        f"leaderElection: {{leaderElect: true, leaseDuration: 3s, renewDeadline: 2s, "
                        f"retryPeriod: 500ms}}\n")
    await client.resource("Node").create(node("n1"))
    process = await asyncio.create_subprocess_exec(*cox_command("scheduler", "--config", str(settings)),
                                                   env=cox_env(tmp_path), stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    try:
        await client.resource("Pod").create(pod("web"))
        assert await bound_to(client, "web") == "n1"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, output.decode()
    lease = await client.resource("Lease").get("cox-scheduler", namespace="kube-system")
    assert lease.spec.holder_identity == ""   # released on the way out


async def test_a_bad_scheduler_config_is_one_line(tmp_path):
    settings = tmp_path / "scheduler.yaml"
    settings.write_text("profiles: [{plugins: {score: {enabled: [{name: Magic}]}}}]\n")
    code, _, err = await cox(tmp_path, "scheduler", "--config", str(settings))
    assert code == 1
    assert err.strip() == (f"error: {settings}: profiles[0].plugins.score.enabled[0].name: unknown plugin "
                           "'Magic'; known: DefaultBinder, DefaultPreemption, InterPodAffinity, NodeAffinity, "
                           "NodeName, NodePorts, NodeResourcesBalancedAllocation, NodeResourcesFit, "
                           "NodeUnschedulable, PodTopologySpread, PrioritySort, TaintToleration, VolumeBinding")


async def test_cordon_uncordon_drain(apiserver, client, tmp_path):
    config = str(_client_config(apiserver, tmp_path))
    pods = client.resource("Pod")
    async with HollowNodes(client, 2), running(client):
        assert await cox(tmp_path, "cordon", "hollow-0", "--config", config) == (0, "node/hollow-0 cordoned\n", "")
        assert (await cox(tmp_path, "cordon", "hollow-0", "--config", config))[1] == "node/hollow-0 already cordoned\n"
        for i in range(3):
            await pods.create(pod(f"p{i}"))
        assert {await bound_to(client, f"p{i}") for i in range(3)} == {"hollow-1"}

        code, _, err = await cox(tmp_path, "drain", "hollow-1", "--config", config)
        assert code == 1 and "cannot delete pods not managed by a controller (use --force to override)" in err
        assert (await client.resource("Node").get("hollow-1")).spec.unschedulable

        await cox(tmp_path, "uncordon", "hollow-0", "--config", config)
        code, out, err = await cox(tmp_path, "drain", "hollow-1", "--force", "--timeout", "30", "--config", config)
        assert code == 0, err
        assert out.splitlines()[0] == "node/hollow-1 already cordoned"
        assert out.splitlines()[-1] == "node/hollow-1 drained"
        assert sorted(line for line in out.splitlines() if line.startswith("evicting")) == [
            f"evicting pod default/p{i}" for i in range(3)]
        assert not (await pods.list(field_selector="spec.nodeName=hollow-1")).items
        await pods.create(pod("after"))
        assert await bound_to(client, "after") == "hollow-0"
