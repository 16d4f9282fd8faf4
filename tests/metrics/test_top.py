"""Resource usage end to end: a `cox agent` on a real dockerd measures a CPU-burning pod and an idle
one, reports NodeMetrics and PodMetrics through the API, and `cox top` prints them as kubectl does.

The machine is shared, so "busy" is a loose bound: a spinning shell gets at
least a tenth of a core, a sleeping one almost nothing."""
import asyncio
import subprocess

from controlplane.api import convert, quantity
from tests.rest.conftest import MACHINE_KUBECTL
from tests.support.control_plane import cox_command, cox_env
from tests.support.images import BUSYBOX_IMAGE
from tests.support.polling import eventually


def pod(name: str, command: str) -> dict:
    return convert.from_manifest({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {"nodeName": "node1", "automountServiceAccountToken": False, "terminationGracePeriodSeconds": 0,
                 "containers": [{"name": "main", "image": BUSYBOX_IMAGE, "command": ["sh", "-c", command]}]}})


async def top(server, tmp_path, *args) -> list[list[str]]:
    home = tmp_path / "top-home"
    home.mkdir(exist_ok=True)
    done = await asyncio.to_thread(subprocess.run, cox_command("top", *args), capture_output=True, text=True,
                                   env=dict(cox_env(home), COX_CONFIG=str(server.config_path)), timeout=60)
    assert done.returncode == 0, done.stderr
    return [line.split() for line in done.stdout.splitlines()]


async def test_top_shows_a_busy_pod_busy_and_an_idle_one_idle(server, reporting_agent, tmp_path):
    async with server.client() as client:
        await client.resource("Pod").create(pod("burner", "while :; do :; done"))
        await client.resource("Pod").create(pod("idler", "exec sleep 3600"))

        async def measured():
            found = {m.metadata.name: m for m in (await client.resource("PodMetrics").list(namespace="default")).items}
            return len(found) == 2 and found
        metrics = await eventually(measured, timeout=60, what=f"both pods measured ({reporting_agent.log()})")
        burner = metrics["burner"].containers[0]
        assert burner.name == "main" and quantity.parse(burner.usage["cpu"]) > quantity.parse("100m")
        assert quantity.parse(metrics["idler"].containers[0].usage["cpu"]) < quantity.parse("50m")
        assert quantity.parse(burner.usage["memory"]) > 0
        assert metrics["burner"].metadata.owner_references[0].name == "burner"
        assert dict(metrics["burner"].metadata.labels) == {"app": "burner"}   # the pod's, as metrics-server has

        # The real kubectl reads the same figures from metrics.k8s.io, and selects by the pod's labels.
        kubectl = await asyncio.to_thread(
            subprocess.run, [MACHINE_KUBECTL, "--kubeconfig", str(server.data_dir / "kubeconfig.yaml"), "--cache-dir",
                             str(tmp_path / "kube-cache"), "top", "pods", "-l", "app=burner"],
            capture_output=True, text=True, timeout=60, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert kubectl.returncode == 0, kubectl.stderr
        rows = [line.split() for line in kubectl.stdout.splitlines()]
        assert rows[0] == ["NAME", "CPU(cores)", "MEMORY(bytes)"] and [r[0] for r in rows[1:]] == ["burner"]

        rows = await top(server, tmp_path, "pods", "--sort-by", "cpu")
        assert rows[0] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
        assert [r[0] for r in rows[1:]] == ["burner", "idler"]
        assert int(rows[1][1].removesuffix("m")) > 100 and rows[1][2].endswith("Mi")
        rows = await top(server, tmp_path, "pods", "-A", "--containers")
        assert rows[0] == ["NAMESPACE", "POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
        assert ["default", "burner", "main"] == rows[1][:3]

        rows = await top(server, tmp_path, "nodes")
        assert rows[0] == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
        assert rows[1][0] == "node1" and int(rows[1][1].removesuffix("m")) > 100   # at least the burner
        assert rows[1][2].endswith("%") and rows[1][4].endswith("%")

        # Its PodMetrics goes with the pod: the garbage collector follows the owner reference.
        await client.resource("Pod").delete("burner", namespace="default", grace_period_seconds=0)

        async def forgotten():
            names = {m.metadata.name for m in (await client.resource("PodMetrics").list(namespace="default")).items}
            return "burner" not in names
        await eventually(forgotten, timeout=30, what="burner's PodMetrics deleted")
