"""A HorizontalPodAutoscaler made by `kubectl autoscale --dry-run=client -o yaml` and applied unchanged
scales a CPU-burning Deployment from 1 to 2 replicas on a real node, and back to 1 once the load stops
(the scale-down window shortened by a second apply, in autoscaling/v2)."""
import asyncio
import shutil
import subprocess
import time

import pytest
import yaml

from controlplane.api import convert
from tests.kubelet.helpers import fetched
from tests.support.control_plane import ServerProcess, cox_command, cox_env
from tests.support.images import BUSYBOX_IMAGE
from tests.support.polling import eventually

BURN_SECONDS = 60


@pytest.fixture
def server(tmp_path):
    process = ServerProcess(tmp_path / "server", extra_args=["--horizontal-pod-autoscaler-sync-period", "1"]).start()
    yield process
    process.stop()


def burner(until: int):
    """Every replica spins until the same wall-clock second, then sleeps: the load stops at once."""
    return convert.from_manifest({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "burner", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "burner"}},
                 "template": {"metadata": {"labels": {"app": "burner"}}, "spec": {
                     "automountServiceAccountToken": False, "terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "main", "image": BUSYBOX_IMAGE, "resources": {"requests": {"cpu": "100m"}},
                                     "command": ["sh", "-c", f"while [ $(date +%s) -lt {until} ]; do :; done; "
                                                             "exec sleep 3600"]}]}}}})


def run(argv, *, env, stdin=None) -> str:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


async def test_kubectl_autoscale_output_scales_a_busy_deployment_up_and_back(server, reporting_agent, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = dict(cox_env(home), COX_CONFIG=str(server.config_path))
    kubectl = [shutil.which("kubectl"), "--kubeconfig", str(server.data_dir / "kubeconfig.yaml"),
               "--cache-dir", str(home / "kube-cache")]
    async with server.client() as client:
        await eventually(lambda: fetched(client, "Node", "node1", ""), timeout=30, what="node1 registered")
        stop_at = int(time.time()) + BURN_SECONDS
        await client.resource("Deployment").create(burner(stop_at))

        generated = await asyncio.to_thread(run, kubectl + ["autoscale", "deployment", "burner", "--cpu-percent=50",
                                                            "--min=1", "--max=2", "--dry-run=client", "-o", "yaml"],
                                            env={"HOME": str(home), "PATH": "/usr/bin:/bin"})
        assert "targetCPUUtilizationPercentage: 50" in generated   # kubectl writes autoscaling/v1
        await asyncio.to_thread(run, cox_command("apply", "-f", "-"), env=env, stdin=generated)
        hpa = await client.resource("HorizontalPodAutoscaler").get("burner", namespace="default")
        assert hpa.spec.metrics[0].resource.target.average_utilization == 50 and hpa.spec.max_replicas == 2

        # The test cannot wait out the default 300 s scale-down window: shorten it, as a user would.
        v2 = yaml.safe_load(generated)
        v2["apiVersion"] = "autoscaling/v2"
        v2["spec"]["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": v2["spec"].pop("targetCPUUtilizationPercentage")}}}]
        v2["spec"]["behavior"] = {"scaleDown": {"stabilizationWindowSeconds": 0}}
        await asyncio.to_thread(run, cox_command("apply", "-f", "-"), env=env, stdin=yaml.safe_dump(v2))

        async def replicas(wanted):
            deployment = await client.resource("Deployment").get("burner", namespace="default")
            if deployment.spec.replicas == wanted:
                return True
            found = await client.resource("HorizontalPodAutoscaler").get("burner", namespace="default")
            assert False, f"{deployment.spec.replicas} replicas; HPA status: {found.status}"
        await eventually(lambda: replicas(2), timeout=stop_at - time.time(), what="scaled up to 2")
        hpa = await client.resource("HorizontalPodAutoscaler").get("burner", namespace="default")
        assert hpa.status.current_metrics[0].resource.current.average_utilization > 50
        assert hpa.status.last_scale_time.seconds > 0

        await asyncio.sleep(max(stop_at - time.time(), 0))
        await eventually(lambda: replicas(1), timeout=45, what="scaled back down to 1 once the load stopped")

        async def rescaled():   # events are written a moment after the scaling (client/events.py)
            events = (await client.resource("Event").list(namespace="default")).items
            rescales = [e.message for e in events if e.reason == "SuccessfulRescale"]
            assert any(m.startswith("New size: 2; reason: cpu resource utilization") for m in rescales), rescales
            assert any(m.startswith("New size: 1;") and "below target" in m for m in rescales), rescales
            return True
        await eventually(rescaled, timeout=10, what="both SuccessfulRescale events")
