"""`cox agent` as a child process of the test, in the host's network namespace, killed or stopped by PID.

It runs the kubelet only: --disable-proxy, --disable-pod-network and
--disable-cluster-dns keep it from making the node's networking (nft tables,
the Service sink and DNS links, routes, DOCKER-USER rules), which would land
in the host namespace every other test run shares. Pods go on the private
dockerd's own bridge. Tests of the full agent run it in a node of a local
cluster (tests/e2e, tests/agent), inside network namespaces.
"""
import sys
from pathlib import Path

from tests.support.child import ChildProcess
from tests.support.control_plane import cox_env
from tests.support.dockerd import PrivateDockerd

KUBELET_ONLY = ("--disable-proxy", "--disable-pod-network", "--disable-cluster-dns")


class AgentProcess(ChildProcess):
    grace = 15.0

    def __init__(self, *, server: str, token: str, dockerd: PrivateDockerd, root: Path, node_name: str = "node1",
                 extra_args=()) -> None:
        super().__init__(root.parent / f"{root.name}-agent.log")
        self.args = [sys.executable, "-m", "agent.cli", "agent", "--server", server,
                     "--node-name", node_name, "--docker-url", dockerd.base_url, "--root-dir", str(root),
                     "--node-ip", dockerd.gateway, "--listen", f"{dockerd.gateway}:0", *KUBELET_ONLY, *extra_args]
        self.root = root
        self.token = token
        self.home = root.parent / f"{root.name}-home"

    def start(self) -> "AgentProcess":
        self.home.mkdir(parents=True, exist_ok=True)
        # The token by environment, never on the command line (which every local user can read).
        self.spawn(self.args, env=dict(cox_env(self.home), COX_TOKEN=self.token))
        return self
