"""What seeing the cluster costs: API requests with metrics on vs off, and the agent's usage collection.

    python bench/metrics_bench.py [--part api|usage|both] [--requests 3000] [--pods 30]

api: an API server in this process, 8 clients doing GETs and creates; the same
rounds with the request metrics (controlplane/metrics/apiserver.py) on and
swapped for a no-op, alternated twice to even out a shared machine's noise.

usage: a private dockerd running N sleeping containers and a `cox server`
process; the agent's UsageReporter (agent/kubelet/usagereporter.py) runs
rounds against them (Docker stats for each container, /proc, one PodMetrics
write per pod and the NodeMetrics), with the kubelet's container cache
stood in for by a list of those containers (the bench needs the reporter's
work, not a kubelet's). Its CPU time per round, in this process, gives the
CPU share of one core at the default 15 s period; collection off costs 0.
"""
import argparse
import asyncio
import pathlib
import sys
import tempfile
import time
import types

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from controlplane.api.kinds import KINDS  # noqa: E402
from bench.table import print_table  # noqa: E402
from tests.support.control_plane import admin_client, running_apiserver  # noqa: E402

CLIENTS = 8


class _Off:
    """The request metrics switched off: the same calls, doing nothing."""

    def __init__(self, *_args):
        pass

    def done(self, _code):
        pass

    def done_grpc(self, _code):
        pass


async def _round(server, *, requests: int, tag: str) -> tuple[float, float]:
    clients = [admin_client(server) for _ in range(CLIENTS)]
    await asyncio.gather(*(c.version() for c in clients))
    per = requests // CLIENTS
    await clients[0].resource("ConfigMap").create(KINDS["ConfigMap"].new(metadata={"name": f"read-{tag}",
                                                                                   "namespace": "default"}))

    async def gets(c):
        for _ in range(per):
            await c.resource("ConfigMap").get(f"read-{tag}", namespace="default")

    async def creates(i, c):
        for n in range(per):
            await c.resource("ConfigMap").create(KINDS["ConfigMap"].new(
                metadata={"name": f"{tag}-{i}-{n}", "namespace": "default"}))
    rates = []
    for work in (lambda: [gets(c) for c in clients], lambda: [creates(i, c) for i, c in enumerate(clients)]):
        started = time.perf_counter()
        await asyncio.gather(*work())
        rates.append(per * CLIENTS / (time.perf_counter() - started))
    await asyncio.gather(*(c.close() for c in clients))
    return rates[0], rates[1]


async def api_part(requests: int) -> list[dict]:
    from controlplane.apiserver import service
    on = service.metrics
    results = {"on": [], "off": []}
    with tempfile.TemporaryDirectory() as tmp:
        async with running_apiserver(pathlib.Path(tmp) / "data") as server:
            for index, mode in enumerate(("on", "off", "on", "off")):
                service.metrics = on if mode == "on" else types.SimpleNamespace(Request=_Off)
                results[mode].append(await _round(server, requests=requests, tag=f"r{index}"))
            service.metrics = on
    hook = _hook_seconds()
    rows = []
    for mode in ("off", "on"):
        gets = max(r[0] for r in results[mode])
        creates = max(r[1] for r in results[mode])
        rows.append({"request metrics": mode, "GET/s (best of 2)": gets, "create/s (best of 2)": creates,
                     "hook µs/request": hook * 1e6 if mode == "on" else 0.0,
                     "hook % of a GET": hook * gets * 100 if mode == "on" else 0.0})
    return rows


def _hook_seconds(count: int = 100_000) -> float:
    """The request metrics' own cost, alone: one Request and its done, as the handlers make them."""
    from controlplane.metrics import apiserver
    started = time.perf_counter()
    for _ in range(count):
        apiserver.Request("get", "configmaps").done_grpc(None)
    return (time.perf_counter() - started) / count


def _rss_kib() -> int:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def usage_part(pods: int) -> list[dict]:
    """Set up outside the event loop (the private dockerd's networking uses pyroute2's own loop)."""
    import docker.errors

    from tests.support.control_plane import ServerProcess
    from tests.support.dockerd import PrivateDockerd
    from tests.support.images import BUSYBOX_IMAGE, ensure_busybox

    with PrivateDockerd(prefix="coxb") as daemon, tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(pathlib.Path(tmp) / "data").start()
        api = daemon.client()
        ids = []
        try:
            ensure_busybox(api)
            for n in range(pods):
                container = api.create_container(BUSYBOX_IMAGE, ["sleep", "3600"], name=f"bench-{n}")
                api.start(container["Id"])
                ids.append(container["Id"])
            return asyncio.run(_measure_usage(daemon.base_url, server, ids))
        finally:
            for cid in ids:
                try:
                    api.remove_container(cid, force=True)
                except docker.errors.APIError:
                    pass
            api.close()
            server.stop()


async def _measure_usage(docker_url: str, server, ids: list[str]) -> list[dict]:
    from agent.kubelet.usagereporter import DEFAULT_PERIOD, UsageReporter
    from agent.runtime import Runtime
    from agent.runtime.types import Kind, PodRef, State

    statuses = {f"uid{n}": [types.SimpleNamespace(id=cid, kind=Kind.APP, state=State.RUNNING, name="main",
                                                  pod=PodRef(f"uid{n}", "default", f"pod-{n}"))]
                for n, cid in enumerate(ids)}
    cache = types.SimpleNamespace(pods=lambda: statuses)
    runtime = await Runtime.connect(docker_url)
    client = server.client()
    reporter = UsageReporter(client, runtime, cache, node_name="bench", period=DEFAULT_PERIOD)
    rss_before = _rss_kib()
    await reporter.report_once()          # the first round only samples (no rate yet)
    rounds, cpu, wall = 5, 0.0, 0.0
    for _ in range(rounds):
        await asyncio.sleep(1)
        started_cpu, started = time.process_time(), time.perf_counter()
        measured = await reporter.report_once()
        cpu += time.process_time() - started_cpu
        wall += time.perf_counter() - started
    rss_after = _rss_kib()
    await client.close()
    runtime.close()
    per_round = cpu / rounds
    return [
        {"usage collection": "off", "pods": len(ids), "CPU s/round": 0.0, "wall ms/round": 0.0,
         "CPU % of a core @15s": 0.0, "CPU % @1s": 0.0, "RSS +KiB": 0},
        {"usage collection": "on", "pods": measured, "CPU s/round": per_round, "wall ms/round": wall / rounds * 1000,
         "CPU % of a core @15s": per_round / DEFAULT_PERIOD * 100, "CPU % @1s": per_round * 100,
         "RSS +KiB": rss_after - rss_before},
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=("api", "usage", "both"), default="both")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--pods", type=int, default=30)
    args = parser.parse_args()
    if args.part in ("api", "both"):
        print_table(asyncio.run(api_part(args.requests)),
                    note="API server in-process, 8 gRPC clients; metrics off = the hooks swapped for no-ops")
    if args.part in ("usage", "both"):
        print_table(usage_part(args.pods),
                    note="target: <= 5 % of one core with 30 pods at the default period; wall time is Docker's "
                         "stats tick (up to 1 s a call, 8 at once), not CPU")


if __name__ == "__main__":
    main()
