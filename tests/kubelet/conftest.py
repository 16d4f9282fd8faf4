"""Kubelets (static pods only, or joined to an API server) on the session's private dockerd
(tests/support/docker_fixtures.py)."""
import contextlib
from dataclasses import replace
from pathlib import Path

import pytest

from agent.kubelet.config import KubeletConfig
from agent.kubelet.kubelet import Kubelet
from controlplane.client import Client
from tests.kubelet.agent_process import AgentProcess
from tests.support.control_plane import ServerProcess, node_config
from localcluster.leftovers import unmount_under

NODE = "node1"


@pytest.fixture
def manifests(tmp_path) -> Path:
    path = tmp_path / "manifests"
    path.mkdir()
    return path


@pytest.fixture
def kubelet_config(tmp_path, manifests, dockerd):
    return KubeletConfig(node_name=NODE, docker_url=dockerd.base_url, root_dir=tmp_path / "agent",
                         pod_manifest_path=manifests, file_check_seconds=0.2)


@contextlib.asynccontextmanager
async def running_kubelet(config, runtime, client, host_ip, tmp_path):
    k = Kubelet(config, runtime, client, host_ip=host_ip)
    await k.start()
    try:
        yield k
    finally:
        await k.stop()
        unmount_under(tmp_path)


@pytest.fixture
async def kubelet(kubelet_config, runtime, dockerd, tmp_path):
    """A kubelet with static pods only (no API server)."""
    async with running_kubelet(kubelet_config, runtime, None, dockerd.gateway, tmp_path) as k:
        yield k


@pytest.fixture
async def node_client(apiserver, kubelet_config):
    """A client with the node's own credential, bootstrapped with the join token."""
    c = Client(await node_config(apiserver, kubelet_config.node_name))
    yield c
    await c.close()


@pytest.fixture
async def joined(kubelet_config, runtime, node_client, dockerd, tmp_path):
    """A kubelet joined to a real API server (in this process), with the node's credentials."""
    config = replace(kubelet_config, node_ip=dockerd.gateway, heartbeat_seconds=1.0, volume_refresh_seconds=1.0,
                     listen=f"{dockerd.gateway}:0")
    async with running_kubelet(config, runtime, node_client, dockerd.gateway, tmp_path) as k:
        yield k


@pytest.fixture
def server(tmp_path):
    """`cox server` as a process."""
    process = ServerProcess(tmp_path / "server").start()
    yield process
    process.stop()


@pytest.fixture
def agent(server, dockerd, tmp_path, runtime):
    """`cox agent` as a process, joined to `server` with the join token."""
    token = (server.data_dir / "node-token").read_text().strip()
    process = AgentProcess(server=f"127.0.0.1:{server.port}", token=token, dockerd=dockerd, root=tmp_path / "agent")
    yield process.start()
    process.stop()
    unmount_under(tmp_path)   # the volumes of pods it still ran
