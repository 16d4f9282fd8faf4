"""`cox agent`'s /metrics (kubelet only: see tests/kubelet/agent_process.py): a pod started on a real
dockerd moves the pod start histogram, the running gauges and the Docker call latencies."""
import pytest

from controlplane.api import convert
from tests.kubelet.agent_process import AgentProcess
from tests.metrics.scrape import scrape
from tests.support.images import BUSYBOX_IMAGE
from tests.support.polling import eventually
from tests.support.ports import free_port


@pytest.fixture
def agent(server, dockerd, runtime, tmp_path):
    """`runtime` removes whatever containers the agent leaves."""
    token = (server.data_dir / "node-token").read_text().strip()
    port = free_port()
    process = AgentProcess(server=f"127.0.0.1:{server.port}", token=token, dockerd=dockerd, root=tmp_path / "agent",
                           extra_args=("--metrics-bind-address", f"127.0.0.1:{port}"))
    process.metrics_url = f"http://127.0.0.1:{port}/metrics"
    yield process.start()
    process.stop()


async def test_a_started_pod_moves_the_kubelet_series(server, agent):
    async with server.client() as client:
        await client.resource("Pod").create(convert.from_manifest({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sleeper", "namespace": "default"},
            "spec": {"nodeName": "node1", "automountServiceAccountToken": False, "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "c", "image": BUSYBOX_IMAGE, "command": ["sleep", "3600"]}]}}))

        async def running():
            try:
                page = await scrape(agent.metrics_url)
            except OSError:   # the agent is not listening yet
                return None
            return page.value("kubelet_running_pods") == 1 and page.value("kubelet_pod_start_duration_seconds_count") == 1 and page
        page = await eventually(running, timeout=60, what=f"one pod started and running ({agent.log()})")
    assert page.value("kubelet_running_containers", container_state="running") == 2   # the sandbox and "c"
    assert page.value("kubelet_runtime_operations_duration_seconds_count", operation_type="create_container") >= 2
    assert page.value("kubelet_runtime_operations_duration_seconds_count", operation_type="start") >= 2
    assert page.value("kubelet_pod_start_duration_seconds_sum") > 0
