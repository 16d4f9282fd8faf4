"""`cox rollout`, `cox scale`, `cox set image` and `cox controller-manager`, as processes."""
import asyncio
import pathlib
import signal

import pytest

from controlplane.client import ClientConfig
from controlplane.controllers import rollout
from controlplane.controllers.manager import LEASE_NAME
from tests.controllers.support import active_pods, deployment, eventually, hollow_nodes, never_ready, starting_in, \
    with_readiness_probe
from tests.controllers.test_deployment import rolled_out
from tests.support.control_plane import cox_command, cox_env
from tests.support.objects import modify


@pytest.fixture
def config_path(tmp_path, apiserver):
    creds = apiserver.credentials
    path = tmp_path / "admin.yaml"
    ClientConfig(server=apiserver.address, ca=creds.ca_pem.decode(), token=creds.admin_token).write(path)
    return path


@pytest.fixture
def cox(tmp_path, config_path):
    """Run `cox ARGS --config <admin config>` without blocking the server's event loop."""
    async def run(*args, timeout=60):
        proc = await asyncio.create_subprocess_exec(
            *cox_command(*args, "--config", str(config_path)), env=cox_env(tmp_path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
        return proc.returncode, out.decode(), err.decode()
    return run


async def test_scale_and_set_image(client, manager, nodes, cox):
    api = client.resource("Deployment")
    await api.create(deployment("web", 2))
    await eventually(lambda: rolled_out(api, "web"))
    assert await cox("scale", "deployment/web", "--replicas=4") == (0, "deployment.apps/web scaled\n", "")
    await eventually(lambda: _active(client, 4))
    code, _, err = await cox("scale", "deploy", "web", "--replicas=1", "--current-replicas=3")
    assert code == 1 and "expected 3 replicas, found 4" in err
    code, out, _ = await cox("set", "image", "deployment/web", "main=busybox:2")
    assert (code, out) == (0, "deployment.apps/web image updated\n")
    await eventually(lambda: _all_images(client, {"busybox:2"}))
    code, _, err = await cox("set", "image", "deployment/web", "nosuch=x")
    assert code == 1 and "unable to find container named 'nosuch'" in err
    code, _, err = await cox("scale", "pod/x", "--replicas=1")
    assert code == 1 and "pods are not supported here" in err


async def test_rollout_status_history_undo_and_restart(client, manager, cox):
    api = client.resource("Deployment")
    async with hollow_nodes(client, ["node-a"], program=starting_in(1.0)):
        d = deployment("web", 3, image="busybox:1", surge=1, unavailable=0)
        d.metadata.annotations[rollout.CHANGE_CAUSE] = "first"
        await api.create(d)
        code, out, _ = await cox("rollout", "status", "deployment/web")
        assert code == 0 and out.splitlines()[-1] == 'deployment "web" successfully rolled out'
        def change(d):
            d.spec.template.spec.containers[0].image = "busybox:2"
            d.metadata.annotations[rollout.CHANGE_CAUSE] = "second"
        await modify(api, "web", change)
        code, out, _ = await cox("rollout", "status", "deployment/web")
        assert code == 0 and "new replicas have been updated" in out    # it showed progress on the way
        code, out, _ = await cox("rollout", "history", "deployment/web")
        assert out.splitlines()[1:] == ["REVISION  CHANGE-CAUSE", "1         first", "2         second"]
        code, out, _ = await cox("rollout", "history", "deployment/web", "--revision=1")
        assert code == 0 and "image: busybox:1" in out
        assert (await cox("rollout", "undo", "deployment/web"))[:2] == (0, "deployment.apps/web rolled back\n")
        assert (await cox("rollout", "status", "deployment/web"))[0] == 0
        await eventually(lambda: _all_images(client, {"busybox:1"}))
        assert (await api.get("web")).metadata.annotations[rollout.REVISION] == "3"
        code, _, err = await cox("rollout", "undo", "deployment/web", "--to-revision=9")
        assert code == 1 and "unable to find the specified revision 9" in err
        before = {p.metadata.name for p in await active_pods(client, label_selector="app=web")}
        assert (await cox("rollout", "restart", "deployment/web"))[0] == 0
        assert (await cox("rollout", "status", "deployment/web"))[0] == 0
        after = {p.metadata.name for p in await active_pods(client, label_selector="app=web")}
        assert len(after) == 3 and not before & after


async def test_rollout_status_fails_when_the_rollout_does(client, manager, cox):
    api = client.resource("Deployment")
    async with hollow_nodes(client, ["node-a"], program=never_ready):
        # Long enough for `cox` to start and print once on a loaded machine, short enough to wait for.
        await api.create(with_readiness_probe(deployment("stuck", 1, progress_deadline_seconds=8)))
        code, out, err = await cox("rollout", "status", "deploy/stuck", "--timeout=30")
    assert code == 1 and err.strip() == 'error: deployment "stuck" exceeded its progress deadline'
    assert "Waiting for deployment" in out


async def test_the_controller_manager_command_runs_the_controllers(client, nodes, tmp_path, config_path):
    proc = await asyncio.create_subprocess_exec(
        *cox_command("controller-manager", "--config", str(config_path), "--node-monitor-period=0.5"),
        env=cox_env(tmp_path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        api = client.resource("Deployment")
        await api.create(deployment("web", 2))
        await eventually(lambda: rolled_out(api, "web"), timeout=30)
        lease = await client.resource("Lease").get(LEASE_NAME, namespace="kube-system")
        assert lease.spec.holder_identity
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, output.decode()[-2000:]
    lease = await client.resource("Lease").get(LEASE_NAME, namespace="kube-system")
    assert lease.spec.holder_identity == ""        # released on the way out


async def _active(client, n):
    return len(await active_pods(client, label_selector="app=web")) == n


async def _all_images(client, images):
    pods = await active_pods(client, label_selector="app=web")
    return pods and {p.spec.containers[0].image for p in pods} == images


async def test_daemon_set_get_describe_rollout_and_drain(client, manager, nodes, cox):
    manifest = pathlib.Path(__file__).parents[1] / "api" / "testdata" / "daemonset.yaml"   # kubectl-made
    assert await cox("apply", "-f", str(manifest)) == (0, "daemonset.apps/logs created\n", "")
    code, out, _ = await cox("rollout", "status", "ds/logs", "--timeout=30s")
    assert code == 0 and out.splitlines()[-1] == 'daemon set "logs" successfully rolled out'
    code, out, _ = await cox("get", "ds")
    header, row = out.splitlines()
    assert header.split() == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE",
                              "SELECTOR", "AGE"]
    assert row.split()[:7] == ["logs", "2", "2", "2", "2", "2", "<none>"]
    code, out, _ = await cox("describe", "daemonset", "logs")
    assert "Desired Number of Nodes Scheduled: 2" in " ".join(out.split())
    assert "Pods Status:" in out and "2 Running / 0 Waiting / 0 Succeeded / 0 Failed" in out
    assert "Update Strategy:" in out and "1 max unavailable, 0 max surge" in out

    code, _, err = await cox("drain", "node-a", "--timeout", "30")
    assert code == 1 and "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/logs-" \
        in err
    code, out, err = await cox("drain", "node-a", "--ignore-daemonsets", "--timeout", "1m")
    assert code == 0 and out.splitlines()[-1] == "node/node-a drained"
    assert "Warning: ignoring DaemonSet-managed Pods: default/logs-" in err
    pods = await active_pods(client, label_selector="app=logs")
    assert sorted(p.spec.node_name for p in pods) == ["node-a", "node-b"]   # cordoned, still served

    code, out, _ = await cox("rollout", "restart", "ds/logs")
    assert (code, out) == (0, "daemonset.apps/logs restarted\n")
    code, out, _ = await cox("rollout", "status", "daemonset/logs", "--timeout", "30")
    assert code == 0 and out.splitlines()[-1] == 'daemon set "logs" successfully rolled out'
