"""REST façade vs gRPC: creates/s, listing 1,000 objects, and kubectl vs cox printing them.

    python bench/rest_bench.py [--creates 2000] [--clients 16]

Runs `cox server` as its own process (no controller manager or scheduler, so
the numbers are the API server's). Creates: `--clients` concurrent clients
each creating ConfigMaps as fast as they are acknowledged, through the gRPC
client and through HTTP/1.1 keep-alive connections (aiohttp) posting JSON.
Lists: one List of all of them, JSON over REST vs protobuf over gRPC; then
the commands a person types, `kubectl get configmaps` vs `cox get configmaps`.
"""
import argparse
import asyncio
import base64
import json
import pathlib
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

import aiohttp
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from bench.api_bench import creates_per_second  # noqa: E402
from bench.table import print_table  # noqa: E402
from controlplane.api.kinds import KINDS  # noqa: E402
from controlplane.client import Client, load_config  # noqa: E402
from tests.support.control_plane import ServerProcess, cox_command, cox_env  # noqa: E402
from tests.support.ports import free_port  # noqa: E402


def _rest_target(kubeconfig: pathlib.Path) -> tuple[str, str, ssl.SSLContext]:
    config = yaml.safe_load(kubeconfig.read_text())
    cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
    context = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    return cluster["server"], user["token"], context


async def rest_creates_per_second(kubeconfig: pathlib.Path, *, clients: int, total: int, namespace: str) -> float:
    server, token, context = _rest_target(kubeconfig)
    url = f"{server}/api/v1/namespaces/{namespace}/configmaps"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    sessions = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context, limit=1)) for _ in range(clients)]
    counts = [total // clients + (i < total % clients) for i in range(clients)]

    async def run(i: int, session: aiohttp.ClientSession):
        for n in range(counts[i]):
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"r{i}-{n}"},
                    "data": {"key": "value"}}
            async with session.post(url, data=json.dumps(body), headers=headers) as response:
                assert response.status == 201, await response.text()

    for session in sessions:  # warm the connections so TLS handshakes are not counted
        async with session.get(f"{server}/version") as response:
            await response.read()
    start = time.perf_counter()
    await asyncio.gather(*(run(i, s) for i, s in enumerate(sessions)))
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(s.close() for s in sessions))
    return total / elapsed


async def rest_list_seconds(kubeconfig: pathlib.Path, namespace: str) -> tuple[float, int]:
    server, token, context = _rest_target(kubeconfig)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(f"{server}/version") as response:
            await response.read()
        start = time.perf_counter()
        async with session.get(f"{server}/api/v1/namespaces/{namespace}/configmaps", headers=headers) as response:
            items = (await response.json())["items"]
        return time.perf_counter() - start, len(items)


async def grpc_list_seconds(config: pathlib.Path, namespace: str) -> tuple[float, int]:
    async with Client(load_config(config)) as client:
        await client.version()
        start = time.perf_counter()
        listed = await client.resource("ConfigMap").list(namespace=namespace)
        return time.perf_counter() - start, len(listed.items)


def command_seconds(argv: list[str], env: dict) -> tuple[float, int]:
    start = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True).stdout
    return time.perf_counter() - start, len(out.splitlines()) - 1


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--creates", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--listed", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(pathlib.Path(tmp) / "data", extra_args=[
            "--disable-controller-manager", "--disable-scheduler", "--rest-listen", f"127.0.0.1:{free_port()}"])
        server.start()
        try:
            kubeconfig = server.data_dir / "kubeconfig.yaml"
            async with Client(load_config(server.config_path)) as client:
                for name in ("grpc", "rest", "listed"):
                    await client.resource("Namespace").create(KINDS["Namespace"].new(metadata={"name": name}))
            grpc_rate = await creates_per_second(server.config_path, clients=args.clients, total=args.creates)
            rest_rate = await rest_creates_per_second(kubeconfig, clients=args.clients, total=args.creates,
                                                      namespace="rest")
            await rest_creates_per_second(kubeconfig, clients=args.clients, total=args.listed, namespace="listed")
            rest_list, rest_count = await rest_list_seconds(kubeconfig, "listed")
            grpc_list, grpc_count = await grpc_list_seconds(server.config_path, "listed")
            kubectl = [shutil.which("kubectl"), "--kubeconfig", str(kubeconfig), "--cache-dir",
                       str(pathlib.Path(tmp) / "kube-cache"), "get", "configmaps", "-n", "listed"]
            env = cox_env(server.home)
            command_seconds(kubectl, env)  # fill kubectl's discovery cache first
            kubectl_get, kubectl_rows = command_seconds(kubectl, env)
            cox_get, cox_rows = command_seconds(
                cox_command("get", "configmaps", "-n", "listed", "--config", str(server.config_path)), env)
        finally:
            server.stop()
    print_table([
        {"measure": f"creates/s ({args.clients} clients)", "REST (JSON)": rest_rate, "gRPC (protobuf)": grpc_rate},
        {"measure": f"List of {rest_count} ConfigMaps, ms", "REST (JSON)": rest_list * 1000,
         "gRPC (protobuf)": grpc_list * 1000},
        {"measure": f"`get configmaps` of {kubectl_rows} (kubectl | cox), ms", "REST (JSON)": kubectl_get * 1000,
         "gRPC (protobuf)": cox_get * 1000},
    ], note=f"gRPC listed {grpc_count}, cox printed {cox_rows} rows")


if __name__ == "__main__":
    asyncio.run(main())
