"""A local multi-node cluster for tests: `cox local up` in the test process, `down` whatever happens.

    with local_cluster(nodes=3) as cluster:      # control plane + 3 nodes with their agents
        async with cluster.client() as client: ...
        cluster.exec_in_pod(...)                 # or docker calls on a node: cluster.docker("node1")

Each cluster has a unique name (so several test runs can share the machine)
and its state under a temporary directory. agents=False stops short of the
agents: the node machines, their dockerds and the control plane, for tests
that run node components themselves (in this process, in the node's
namespace).
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker

from controlplane.client import Client, load_config
from localcluster import cluster as localcluster
from localcluster import procs
from localcluster.cluster import ClusterInfo, ClusterState
from localcluster.layout import Layout
from localcluster.procs import Proc


@dataclass
class Cluster:
    info: ClusterInfo
    layout: Layout
    state: ClusterState

    @property
    def nodes(self) -> list[str]:
        return [name for name, _ in self.info.nodes]

    def node_ip(self, node: str) -> str:
        return dict(self.info.nodes)[node]

    @property
    def host_ip(self) -> str:
        return self.state.host_ip

    def netns(self, node: str) -> str:
        return self.layout.node_netns(node)

    def docker_url(self, node: str) -> str:
        return self.layout.docker_url(node)

    def docker(self, node: str, **kwargs) -> docker.APIClient:
        return docker.APIClient(self.docker_url(node), version="auto", **kwargs)

    def client(self, **kwargs) -> Client:
        return Client(load_config(self.info.config), **kwargs)

    def run_in_node(self, node: str, argv: list[str]) -> str:
        """A command in the node's network namespace (as a process on that node would see it); its stdout."""
        return subprocess.run(["nsenter", f"--net=/run/netns/{self.netns(node)}", *argv], check=True,
                              capture_output=True, text=True, timeout=60).stdout

    def kill_agent(self, node: str) -> None:
        """SIGKILL the node's agent, as a crash would: its pods' containers keep running."""
        self._kill(next(n.agent for n in self.state.nodes if n.name == node))

    def start_agent(self, node: str) -> None:
        localcluster.start_agent(self.layout, self.state, node)

    def kill_server(self, server: str) -> None:
        """SIGKILL an HA cluster's server (local_cluster(servers=N)); its etcd member dies with it."""
        self._kill(next(s.proc for s in self.state.servers if s.name == server))

    def start_server(self, server: str) -> None:
        localcluster.start_server(self.layout, self.state, server)

    def kill_controller_manager(self) -> None:
        """SIGKILL the separate `cox controller-manager` (local_cluster(controller_manager_args=...))."""
        self._kill(self.state.controller_manager)

    def start_controller_manager(self) -> None:
        localcluster.start_controller_manager(self.layout, self.state)

    @staticmethod
    def _kill(proc: Proc) -> None:
        assert procs.alive(proc), f"process {proc.pid} is not running"
        os.kill(proc.pid, signal.SIGKILL)
        assert procs.wait_gone(proc, 10), f"process {proc.pid} outlived SIGKILL"

    def log(self, process: str) -> str:
        path = self.layout.log_path(process)
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def local_cluster(*, nodes: int = 3, agents: bool = True, timeout: float = 180.0, **options):
    """options: those of localcluster.up (server_args, controller_manager_args, agent_args, servers)."""
    name = f"t{secrets.token_hex(4)}"
    state_dir = Path(tempfile.mkdtemp(prefix=f"cox-{name}-"))
    try:
        info = localcluster.up(name, nodes=nodes, state_dir=state_dir, agents=agents, timeout=timeout, **options)
        layout = Layout.of(name, state_dir=state_dir)
        yield Cluster(info=info, layout=layout, state=ClusterState.load(layout))
    finally:
        localcluster.down(name, state_dir=state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)

