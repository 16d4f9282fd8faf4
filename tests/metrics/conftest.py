"""`server`: `cox server` as a process (tests/kubelet's fixture; a module may override it), and a
`cox agent` (kubelet only, tests/kubelet/agent_process.py) joined to it that reports resource usage
every second, on the session's dockerd."""
import pytest

from tests.kubelet.agent_process import AgentProcess
from tests.kubelet.conftest import server  # noqa: F401 (a fixture)


@pytest.fixture
def reporting_agent(server, dockerd, runtime, tmp_path):
    """`runtime` removes whatever containers the agent leaves."""
    token = (server.data_dir / "node-token").read_text().strip()
    process = AgentProcess(server=f"127.0.0.1:{server.port}", token=token, dockerd=dockerd, root=tmp_path / "agent",
                           extra_args=("--resource-usage-period", "1", "--metrics-bind-address", ""))
    yield process.start()
    process.stop()
