"""Pod start latency through coxswain, against the floor of Docker itself.

    python bench/pod_start_bench.py [--rate 5] [--duration 60] [--burst 30]

Starts a private dockerd, `cox server` and `cox agent` as processes (as
deployed), and measures pod start latency the way Kubernetes' SLO defines
it: from the create request to the pod seen Running (all containers
started) through a watch.

(a) steady: pods created at --rate per second for --duration seconds; each
    is deleted 5 s after it is Running, so about 30 run at a time (the
    density of Kubernetes' own density test), and the node is not filled
    with hundreds of pods on a small machine. p50 and p99.
(b) burst: --burst pods created at once; the time until all are Running,
    beside the floor: the same number of pause + app container pairs, made
    as the agent makes them, started directly through docker-py with as
    many threads as the agent uses for Docker calls
    (tests/support/dockerfloor.py). (a) has a floor too, on the same schedule: where
    Docker alone cannot keep up with the rate, neither can any kubelet.
    Both print the rate they sustained (pods Running per second, first
    request to last Running): below --rate means they fell behind, and the
    latencies then grow with the length of the run, not with any one pod.
(c) the agent's resident memory with the burst's pods running.

The machine is shared, so numbers are indicative. Targets (issue 3):
(a) p99 <= 1 s, (b) <= 1.3 x the floor, (c) <= 80 MB.
"""
import argparse
import asyncio
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from agent.runtime import labels  # noqa: E402
from agent.runtime.engine import DEFAULT_WORKERS  # noqa: E402
from controlplane.api import convert  # noqa: E402
from controlplane.client import Client  # noqa: E402
from controlplane.client.errors import NotFound  # noqa: E402
from tests.kubelet.agent_process import AgentProcess  # noqa: E402
from tests.support.control_plane import ServerProcess  # noqa: E402
from localcluster.leftovers import unmount_under  # noqa: E402
from tests.support.dockerd import PrivateDockerd  # noqa: E402
from tests.support.dockerfloor import DockerFloor  # noqa: E402
from tests.support.images import BUSYBOX_IMAGE, ensure_busybox  # noqa: E402
from tests.support.procmem import rss_mb  # noqa: E402

NODE = "bench-node"
NAMESPACE = "default"
LIFETIME_AFTER_RUNNING = 5.0


def bench_pod(name: str):
    return convert.from_manifest({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"nodeName": NODE, "terminationGracePeriodSeconds": 0,
                 "containers": [{"name": "app", "image": BUSYBOX_IMAGE, "command": ["sleep", "3600"]}]}})


class RunningWatch:
    """Watches pods and records when each is first seen Running."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.running_at: dict[str, float] = {}
        self._waiters: list[tuple[set[str], asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        listing = await self._client.resource("Pod").list(namespace=NAMESPACE)
        self._task = asyncio.create_task(self._run(listing.metadata.resource_version))

    async def _run(self, revision: str) -> None:
        async for event in self._client.resource("Pod").watch(namespace=NAMESPACE, resource_version=revision):
            pod = event.object
            if pod.status.phase == "Running" and pod.metadata.name not in self.running_at:
                self.running_at[pod.metadata.name] = time.perf_counter()
                for names, future in self._waiters:
                    if names <= self.running_at.keys() and not future.done():
                        future.set_result(None)

    async def all_running(self, names: set[str], timeout: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((names, future))
        if names <= self.running_at.keys():
            future.set_result(None)
        await asyncio.wait_for(future, timeout)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def delete_later(client: Client, watch: RunningWatch, name: str) -> None:
    await watch.all_running({name}, 900)   # long: a node that falls behind the rate is still measured
    await asyncio.sleep(LIFETIME_AFTER_RUNNING)
    await client.resource("Pod").delete(name, namespace=NAMESPACE)


async def steady(client: Client, watch: RunningWatch, *, rate: float,
                 duration: float) -> list[tuple[float, float]]:
    """(sent, Running) times of pods created at `rate` per second, each deleted 5 s after it runs."""
    sent: dict[str, float] = {}
    deletions = []
    began = time.perf_counter()
    count = int(rate * duration)
    for i in range(count):
        await asyncio.sleep(max(0.0, began + i / rate - time.perf_counter()))
        name = f"steady-{i}"
        sent[name] = time.perf_counter()
        await client.resource("Pod").create(bench_pod(name))
        deletions.append(asyncio.create_task(delete_later(client, watch, name)))
    await asyncio.gather(*deletions)
    return [(at, watch.running_at[name]) for name, at in sent.items()]


async def burst(client: Client, watch: RunningWatch, count: int) -> float:
    names = {f"burst-{i}" for i in range(count)}
    began = time.perf_counter()
    await asyncio.gather(*(client.resource("Pod").create(bench_pod(name)) for name in names))
    await watch.all_running(names, 300)
    return time.perf_counter() - began


async def delete_all(client: Client, prefix: str) -> None:
    pods = client.resource("Pod")
    names = [p.metadata.name for p in (await pods.list(namespace=NAMESPACE)).items
             if p.metadata.name.startswith(prefix)]
    await asyncio.gather(*(pods.delete(n, namespace=NAMESPACE) for n in names))
    for name in names:
        while True:
            try:
                await pods.get(name, namespace=NAMESPACE)
            except NotFound:
                break
            await asyncio.sleep(0.2)


def sustained(times: list[tuple[float, float]]) -> float:
    """Pods (or pairs) per second that reached Running, from the first request to the last one running:
    the offered rate if it kept up, less if it fell behind."""
    return len(times) / (max(done for _, done in times) - min(sent for sent, _ in times))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def wait_node_ready(client: Client) -> None:
    while True:
        try:
            node = await client.resource("Node").get(NODE)
            if any(c.type == "Ready" and c.status == "True" for c in node.status.conditions):
                return
        except NotFound:
            pass
        await asyncio.sleep(0.2)


async def containers_gone(dockerd: PrivateDockerd) -> None:
    """Wait until the agent has removed every container, so the burst starts on a quiet daemon."""
    with dockerd.client() as api:
        while api.containers(all=True, filters={"label": labels.managed_filter()}):
            await asyncio.sleep(0.5)


async def measure(server: ServerProcess, agent: AgentProcess, dockerd: PrivateDockerd,
                  args) -> tuple[list[tuple[float, float]], float, float, float]:
    """(steady (sent, Running) times, burst seconds, agent RSS in MB idle and with the burst's pods)."""
    async with server.client() as client:
        await asyncio.wait_for(wait_node_ready(client), 60)
        idle_rss = rss_mb(agent.proc.pid)
        watch = RunningWatch(client)
        await watch.start()
        # Warm up: the pause image import and the first connections are not what we measure.
        await burst(client, watch, 1)
        await delete_all(client, "burst-")
        await containers_gone(dockerd)
        watch.running_at.clear()

        times = await steady(client, watch, rate=args.rate, duration=args.duration)
        await delete_all(client, "steady-")
        await containers_gone(dockerd)
        burst_took = await burst(client, watch, args.burst)
        rss = rss_mb(agent.proc.pid)
        await delete_all(client, "burst-")
        await containers_gone(dockerd)   # and their volumes unmounted, before the agent stops
        await watch.stop()
    return times, burst_took, idle_rss, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=5.0, help="pods per second in the steady phase")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the steady phase")
    parser.add_argument("--burst", type=int, default=30, help="pods created at once in the burst phase")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cox-podbench-") as tmp, PrivateDockerd(prefix="coxbn") as dockerd:
        tmp = pathlib.Path(tmp)
        ensure_busybox(dockerd.client())
        server = ServerProcess(tmp / "server").start()
        token = (server.data_dir / "node-token").read_text().strip()
        agent = AgentProcess(server=f"127.0.0.1:{server.port}", token=token, dockerd=dockerd, root=tmp / "agent",
                             node_name=NODE).start()
        try:
            times, burst_took, idle_rss, rss = asyncio.run(measure(server, agent, dockerd, args))
        finally:
            agent.stop()
            server.stop()
            unmount_under(tmp)   # pod volumes of an agent stopped before it tidied up
        floor = DockerFloor(dockerd.client(max_pool_size=DEFAULT_WORKERS), image=BUSYBOX_IMAGE)
        floor_times = floor.steady(args.rate, args.duration, lifetime=LIFETIME_AFTER_RUNNING)
        floor_took = floor.burst(floor.pod, args.burst)
    latencies = [done - sent for sent, done in times]
    floor_latencies = [done - sent for sent, done in floor_times]

    rows = [
        (f"(a) steady {args.rate:g} pods/s for {args.duration:g} s: p50", f"{statistics.median(latencies):.3f} s", ""),
        ("(a) steady: p99", f"{percentile(latencies, 0.99):.3f} s", "<= 1 s"),
        ("(a) floor, the same schedule via docker-py: p50", f"{statistics.median(floor_latencies):.3f} s", ""),
        ("(a) floor: p99", f"{percentile(floor_latencies, 0.99):.3f} s", ""),
        ("(a) sustained: pods Running per second", f"{sustained(times):.2f} /s", f"{args.rate:g} /s offered"),
        ("(a) floor: pairs running per second, Docker alone", f"{sustained(floor_times):.2f} /s",
         f"{args.rate:g} /s offered"),
        (f"    Docker alone flat out ({args.burst} pairs at once, no removals)", f"{args.burst / floor_took:.2f} /s",
         ""),
        (f"(b) burst of {args.burst}: all Running", f"{burst_took:.2f} s", ""),
        (f"(b) floor: {args.burst} pause + app pairs via docker-py, {DEFAULT_WORKERS} threads", f"{floor_took:.2f} s",
         ""),
        ("(b) burst / floor", f"{burst_took / floor_took:.2f} x", "<= 1.3 x"),
        ("(c) agent RSS idle, its node Ready", f"{idle_rss:.0f} MB", ""),
        (f"(c) agent RSS with {args.burst} pods", f"{rss:.0f} MB", "<= 80 MB"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'value':>10}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>10}  {target}")


if __name__ == "__main__":
    main()
