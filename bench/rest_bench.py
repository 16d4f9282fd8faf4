"""REST façade vs gRPC: creates/s, watch delivery, listing 1,000 pods, kubectl vs cox printing them.

    python bench/rest_bench.py [--creates 2000] [--clients 16] [--watchers 20] [--events 100]

Runs `cox server` as its own process (no controller manager or scheduler, so
the numbers are the API server's). Creates: `--clients` concurrent clients
each creating ConfigMaps as fast as they are acknowledged, through the gRPC
client and through HTTP/1.1 keep-alive connections (aiohttp) posting JSON.
Watch: `--watchers` watches of one namespace while a gRPC writer creates
objects stamped with their send time (write -> event received), as
api_bench.py measures it, once as gRPC watches and once as REST
`?watch=1` streams. Lists: 1,000 (Pending) pods listed once, JSON over REST vs protobuf over
gRPC; then the commands a person types, `kubectl get pods` vs `cox get pods`.
"""
import argparse
import asyncio
import base64
import json
import pathlib
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

import aiohttp
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from bench.api_bench import creates_per_second, timed_writes, watch_latency  # noqa: E402
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


def _config_map(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"key": "value"}}


def _pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "bench"}},
            "spec": {"automountServiceAccountToken": False,
                     "containers": [{"name": "c", "image": "busybox:local", "command": ["sleep", "3600"]}]}}


async def rest_creates_per_second(kubeconfig: pathlib.Path, *, clients: int, total: int, namespace: str,
                                  plural: str = "configmaps", make=_config_map) -> float:
    server, token, context = _rest_target(kubeconfig)
    url = f"{server}/api/v1/namespaces/{namespace}/{plural}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    sessions = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context, limit=1)) for _ in range(clients)]
    counts = [total // clients + (i < total % clients) for i in range(clients)]

    async def run(i: int, session: aiohttp.ClientSession):
        for n in range(counts[i]):
            async with session.post(url, data=json.dumps(make(f"r{i}-{n}")), headers=headers) as response:
                assert response.status == 201, await response.text()

    for session in sessions:  # warm the connections so TLS handshakes are not counted
        async with session.get(f"{server}/version") as response:
            await response.read()
    start = time.perf_counter()
    await asyncio.gather(*(run(i, s) for i, s in enumerate(sessions)))
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(s.close() for s in sessions))
    return total / elapsed


async def rest_watch_latency(config: pathlib.Path, kubeconfig: pathlib.Path, *, watchers: int, events: int,
                             rate: float) -> list[float]:
    """Latencies (seconds) from a create's send to each REST watcher's receipt of its ADDED line."""
    server, token, context = _rest_target(kubeconfig)
    latencies: list[float] = []
    done = asyncio.Event()
    remaining = [watchers * events]
    async with Client(load_config(config)) as writer:
        await writer.resource("Namespace").create(KINDS["Namespace"].new(metadata={"name": "watched-rest"}))
        since = (await writer.resource("ConfigMap").list(namespace="watched-rest")).metadata.resource_version
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context),
                                        timeout=aiohttp.ClientTimeout(total=None))

        async def watch():
            url = f"{server}/api/v1/namespaces/watched-rest/configmaps?watch=1&resourceVersion={since}"
            async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
                async for line in response.content:
                    event = json.loads(line)
                    if event["type"] == "ADDED":
                        latencies.append(time.time() - float(event["object"]["metadata"]["annotations"]["sent"]))
                        remaining[0] -= 1
                        if remaining[0] == 0:
                            done.set()

        await timed_writes(writer, "watched-rest", [watch() for _ in range(watchers)], events=events, rate=rate,
                           done=done)
        await session.close()
    return latencies


def _p(latencies: list[float], q: int) -> float:
    return statistics.quantiles(latencies, n=100)[q - 1] * 1000


async def rest_list_seconds(kubeconfig: pathlib.Path, namespace: str, plural: str) -> tuple[float, int]:
    server, token, context = _rest_target(kubeconfig)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(f"{server}/version") as response:
            await response.read()
        start = time.perf_counter()
        async with session.get(f"{server}/api/v1/namespaces/{namespace}/{plural}", headers=headers) as response:
            items = (await response.json())["items"]
        return time.perf_counter() - start, len(items)


async def grpc_list_seconds(config: pathlib.Path, namespace: str, kind: str) -> tuple[float, int]:
    async with Client(load_config(config)) as client:
        await client.version()
        start = time.perf_counter()
        listed = await client.resource(kind).list(namespace=namespace)
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
    parser.add_argument("--watchers", type=int, default=20)
    parser.add_argument("--events", type=int, default=100, help="objects written while watched")
    parser.add_argument("--rate", type=float, default=50, help="writes/s while watched")
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
            grpc_watch = await watch_latency(server.config_path, watchers=args.watchers, events=args.events,
                                             rate=args.rate)
            rest_watch = await rest_watch_latency(server.config_path, kubeconfig, watchers=args.watchers,
                                                  events=args.events, rate=args.rate)
            await rest_creates_per_second(kubeconfig, clients=args.clients, total=args.listed, namespace="listed",
                                          plural="pods", make=_pod)
            rest_list, rest_count = await rest_list_seconds(kubeconfig, "listed", "pods")
            grpc_list, grpc_count = await grpc_list_seconds(server.config_path, "listed", "Pod")
            kubectl = [shutil.which("kubectl"), "--kubeconfig", str(kubeconfig), "--cache-dir",
                       str(pathlib.Path(tmp) / "kube-cache"), "get", "pods", "-n", "listed"]
            env = cox_env(server.home)
            command_seconds(kubectl, env)  # fill kubectl's discovery cache first
            kubectl_get, kubectl_rows = command_seconds(kubectl, env)
            cox_get, cox_rows = command_seconds(
                cox_command("get", "pods", "-n", "listed", "--config", str(server.config_path)), env)
        finally:
            server.stop()
    print_table([
        {"measure": f"creates/s ({args.clients} clients)", "REST (JSON)": rest_rate, "gRPC (protobuf)": grpc_rate},
        {"measure": f"watch p50 ms ({args.watchers} watchers)", "REST (JSON)": _p(rest_watch, 50),
         "gRPC (protobuf)": _p(grpc_watch, 50)},
        {"measure": f"watch p99 ms ({args.watchers} watchers)", "REST (JSON)": _p(rest_watch, 99),
         "gRPC (protobuf)": _p(grpc_watch, 99)},
        {"measure": "watch deliveries", "REST (JSON)": len(rest_watch), "gRPC (protobuf)": len(grpc_watch)},
        {"measure": f"List of {rest_count} Pods, ms", "REST (JSON)": rest_list * 1000,
         "gRPC (protobuf)": grpc_list * 1000},
        {"measure": f"`get pods` of {kubectl_rows} (kubectl | cox), ms", "REST (JSON)": kubectl_get * 1000,
         "gRPC (protobuf)": cox_get * 1000},
    ], note=f"gRPC listed {grpc_count}, cox printed {cox_rows} rows")


if __name__ == "__main__":
    asyncio.run(main())
