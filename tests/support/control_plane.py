"""Run a real API server for a test: in this process, or as a `cox server` process."""
import asyncio
import contextlib
import os
import pathlib
import socket
import sys
import time

from agent.kubelet.credential import request_credential
from controlplane.apiserver.server import APIServer, ServerOptions
from controlplane.client import Client, ClientConfig, load_config
from controlplane.client.join import join_config
from tests.support.child import ChildProcess
from tests.support.ports import free_port

REPO = pathlib.Path(__file__).resolve().parents[2]


def admin_client(server: APIServer, **kwargs) -> Client:
    creds = server.credentials
    return Client(ClientConfig(server=server.address, ca=creds.ca_pem.decode(), token=creds.admin_token),
                  **kwargs)


async def node_config(server: APIServer, node_name: str) -> ClientConfig:
    """A node's own credential, bootstrapped with the join token as its agent does (agent/kubelet/credential.py)."""
    join = await asyncio.to_thread(join_config, server.address, server.credentials.join_token)
    return await request_credential(join, node_name)


@contextlib.asynccontextmanager
async def running_apiserver(data_dir: pathlib.Path, **options):
    """An APIServer in this event loop on a free loopback port."""
    server = APIServer(ServerOptions(data_dir=data_dir, listen="127.0.0.1:0", **options))
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=0)


def cox_env(home: pathlib.Path) -> dict:
    """Environment for a `cox` subprocess: this checkout's code, a private HOME."""
    env = dict(os.environ, PYTHONPATH=str(REPO), HOME=str(home))
    env.pop("COX_CONFIG", None)
    return env


def cox_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "controlplane.cli", *args]


class ServerProcess(ChildProcess):
    """`cox server` as a child process, stopped (or killed) by PID."""

    def __init__(self, data_dir: pathlib.Path, *, port: int | None = None, extra_args=()):
        super().__init__(data_dir.parent / f"{data_dir.name}-server.log")
        self.data_dir = data_dir
        self.port = port or free_port()
        self.home = data_dir.parent / f"{data_dir.name}-home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.extra_args = list(extra_args)

    @property
    def config_path(self) -> pathlib.Path:
        return self.data_dir / "admin.yaml"

    def start(self, timeout: float = 30) -> "ServerProcess":
        self.spawn(cox_command("server", "--data-dir", str(self.data_dir), "--listen", f"127.0.0.1:{self.port}",
                               *self.extra_args), env=cox_env(self.home))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cox server exited {self.proc.returncode}: {self.log(2000)}")
            if self.config_path.exists() and _port_open(self.port):
                return self
            time.sleep(0.05)
        raise TimeoutError(f"cox server not up after {timeout}s: {self.log(2000)}")

    def client(self, **kwargs) -> Client:
        return Client(load_config(self.config_path), **kwargs)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0
