"""A `cox agent` (kubelet only, tests/kubelet/agent_process.py) that reports resource usage every second,
joined to the test's `server` fixture, on the session's dockerd."""
import pytest

from tests.kubelet.agent_process import AgentProcess


@pytest.fixture
def reporting_agent(server, dockerd, runtime, tmp_path):
    """`runtime` removes whatever containers the agent leaves."""
    token = (server.data_dir / "node-token").read_text().strip()
    process = AgentProcess(server=f"127.0.0.1:{server.port}", token=token, dockerd=dockerd, root=tmp_path / "agent",
                           extra_args=("--resource-usage-period", "1", "--metrics-bind-address", ""))
    yield process.start()
    process.stop()
