"""Pod start through coxswain against Docker Swarm, the orchestrator built into the engine coxswain drives.

    python bench/peer_bench.py [--rounds 3] [--replicas 30 100]

One `cox local` node (tests/support/cluster.py) and Docker Swarm initialised
on that node's own dockerd: the same engine, the same image (busybox:local,
imported, no registry), the same command. Each round starts N replicas
through each, one after the other, and times them until all are Running:

- coxswain: a Deployment created through the API; the time until one
  watching client has seen N of its pods Running (Deployment → ReplicaSet →
  scheduler → kubelet → status).
- Swarm: `docker service create --replicas N` (the SDK's services.create);
  the time until N of its tasks report state running, polled through the SDK.
- the floors, Docker alone (tests/support/dockerfloor.py), after both: N
  pods as the agent makes them (pause + app) and N Swarm-like tasks (one
  container each), started at once through docker-py. coxswain / its floor
  is what an orchestrator adds to the pod model; Swarm / its floor the same
  for tasks; pods / tasks is what the pod model itself costs on this engine,
  which no kubelet can win back.

With --profile DIR, py-spy records the node's agent and the control plane
(`cox server`) for the whole run: DIR/agent.txt and DIR/server.txt, collapsed
stacks, the way to find where a pod's start goes. The table also gives the
full agent's resident memory (kubelet, proxy, pod network, DNS) with each
round's pods Running (issue 16's memory target: <= 60 MB with 30 pods).

Both are removed and their containers gone before the next start, so each
starts on a quiet daemon. The machine may be shared: numbers are noisy, so
the two sides are interleaved in one run (which side goes first alternates
per round) and the ratio coxswain/Swarm is taken per round; the table prints
every round and the median ratio per replica count. Target (issue 16): <= 1.0.

dockerd gets DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 (inherited from this
process) so Swarm never tries a registry for the local image. Swarm's address
pool is set inside the benchmarking range (its ingress network would
otherwise take 10.0.0.0/24). Swarm and the cluster are torn down whatever
happens.
"""
import argparse
import asyncio
import contextlib
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import docker  # noqa: E402
from docker.types import ServiceMode  # noqa: E402

from agent.runtime import labels  # noqa: E402
from agent.runtime.engine import DEFAULT_WORKERS  # noqa: E402
from bench.table import print_table  # noqa: E402
from controlplane.api.kinds import KINDS  # noqa: E402
from controlplane.client import Client  # noqa: E402
from localcluster.images import BUSYBOX_IMAGE  # noqa: E402
from tests.support.cluster import Cluster, local_cluster  # noqa: E402
from tests.support.dockerfloor import DockerFloor  # noqa: E402
from tests.support.procmem import rss_mb  # noqa: E402

NAMESPACE = "default"
COMMAND = ["sleep", "3600"]
SWARM_POOL = "198.19.192.0/18"   # Swarm's overlay subnets (ingress), inside the benchmarking range
SWARM_SERVICE_LABEL = "com.docker.swarm.service.name"


def deployment(name: str, replicas: int):
    return KINDS["Deployment"].new(
        metadata={"name": name, "namespace": NAMESPACE},
        spec={"replicas": replicas, "selector": {"match_labels": {"app": name}},
              "template": {"metadata": {"labels": {"app": name}},
                           "spec": {"termination_grace_period_seconds": 0,
                                    "containers": [{"name": "app", "image": BUSYBOX_IMAGE, "command": COMMAND}]}}})


async def until_running(client: Client, name: str, replicas: int) -> float:
    """Create the Deployment; seconds until `replicas` of its pods are seen Running by one watch."""
    pods = client.resource("Pod")
    revision = (await pods.list(namespace=NAMESPACE, label_selector=f"app={name}")).metadata.resource_version
    running: set[str] = set()

    async def watch() -> None:
        async for event in pods.watch(namespace=NAMESPACE, label_selector=f"app={name}", resource_version=revision):
            if event.object.status.phase == "Running":
                running.add(event.object.metadata.name)
                if len(running) >= replicas:
                    return
    watching = asyncio.create_task(watch())
    await asyncio.sleep(0)
    began = time.perf_counter()
    await client.resource("Deployment").create(deployment(name, replicas))
    await asyncio.wait_for(watching, 600)
    return time.perf_counter() - began


async def coxswain_round(client: Client, name: str, replicas: int, *, agent_pid: int = 0) -> tuple[float, float]:
    """Seconds from the Deployment's create to `replicas` of its pods Running, and the full agent's
    RSS (MB) with them running."""
    took = await until_running(client, name, replicas)
    rss = rss_mb(agent_pid) if agent_pid else 0.0
    await client.resource("Deployment").delete(name, namespace=NAMESPACE, propagation_policy="Background")
    return took, rss


def swarm_round(engine: docker.DockerClient, name: str, replicas: int) -> float:
    """Seconds from `service create --replicas` to `replicas` of its tasks in state running."""
    began = time.perf_counter()
    service = engine.services.create(BUSYBOX_IMAGE, COMMAND, name=name,
                                     mode=ServiceMode("replicated", replicas=replicas))
    deadline = began + 600
    while True:
        tasks = engine.api.tasks(filters={"service": name, "desired-state": "running"})
        if sum(t["Status"]["State"] == "running" for t in tasks) >= replicas:
            break
        if time.perf_counter() > deadline:
            raise TimeoutError(f"swarm service {name}: not all {replicas} tasks running after 600 s")
        time.sleep(0.05)
    took = time.perf_counter() - began
    service.remove()
    return took


def wait_quiet(api: docker.APIClient, label: str, timeout: float = 300) -> None:
    """Until no container with that label is left (removed by its orchestrator)."""
    deadline = time.monotonic() + timeout
    while api.containers(all=True, quiet=True, filters={"label": label}):
        if time.monotonic() > deadline:
            raise TimeoutError(f"containers labelled {label} still there after {timeout:.0f} s")
        time.sleep(0.2)


@contextlib.contextmanager
def swarm(cluster: Cluster, node: str):
    engine = docker.DockerClient(base_url=cluster.docker_url(node), version="auto", timeout=120)
    try:
        engine.swarm.init(advertise_addr=cluster.node_ip(node), listen_addr=f"{cluster.node_ip(node)}:2377",
                          default_addr_pool=[SWARM_POOL], subnet_size=24)
        yield engine
    finally:
        with contextlib.suppress(docker.errors.APIError):
            for service in engine.services.list():
                service.remove()
            engine.swarm.leave(force=True)
        engine.close()


async def run(cluster: Cluster, engine: docker.DockerClient, *, rounds: int, counts: list[int]) -> list[dict]:
    node = cluster.nodes[0]
    api = cluster.docker(node)
    floor = DockerFloor(cluster.docker(node, max_pool_size=DEFAULT_WORKERS, timeout=120), image=BUSYBOX_IMAGE)
    agent_pid = cluster.state.nodes[0].agent.pid
    rows = []
    async with cluster.client() as client:
        # Warm-up on both sides: first connections, first container of an image, the swarm's first task.
        await coxswain_round(client, "warm", 1)
        await asyncio.to_thread(wait_quiet, api, labels.managed_filter())
        await asyncio.to_thread(swarm_round, engine, "warm", 1)
        await asyncio.to_thread(wait_quiet, api, SWARM_SERVICE_LABEL)
        for r in range(1, rounds + 1):
            for count in counts:
                times = {}
                sides = ["coxswain", "swarm"] if r % 2 else ["swarm", "coxswain"]
                for side in sides:
                    name = f"peer-{count}-{r}"
                    if side == "coxswain":
                        times[side], rss = await coxswain_round(client, name, count, agent_pid=agent_pid)
                        await asyncio.to_thread(wait_quiet, api, labels.managed_filter())
                    else:
                        times[side] = await asyncio.to_thread(swarm_round, engine, name, count)
                        await asyncio.to_thread(wait_quiet, api, SWARM_SERVICE_LABEL)
                pods = await asyncio.to_thread(floor.burst, floor.pod, count, prefix=f"floor-pod-{r}")
                tasks = await asyncio.to_thread(floor.burst, floor.task, count, prefix=f"floor-task-{r}")
                row = {"round": r, "replicas": count, "first": sides[0], "coxswain s": times["coxswain"],
                       "swarm s": times["swarm"], "ratio": f"{times['coxswain'] / times['swarm']:.2f}",
                       "docker pods s": pods, "docker tasks s": tasks, "agent RSS MB": rss}
                rows.append(row)
                print(row, flush=True)
    api.close()
    return rows


def ratio(rows: list[dict], top: str, bottom: str) -> str:
    """The median over rounds of one column over another, in the same round."""
    return f"{statistics.median(r[top] / r[bottom] for r in rows):.2f}"


@contextlib.contextmanager
def profiling(cluster: Cluster, out: pathlib.Path | None):
    """py-spy on the agent and the server while the rounds run (nothing without --profile)."""
    if out is None:
        yield
        return
    out.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(pathlib.Path(sys.executable).parent / "py-spy")
    targets = {"agent": cluster.state.nodes[0].agent.pid, "server": cluster.state.server.pid}
    children = [subprocess.Popen([spy, "record", "--nonblocking", "--format", "raw", "--rate", "50",
                                  "-o", str(out / f"{name}.txt"), "-p", str(pid)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for name, pid in targets.items()]
    try:
        yield
    finally:
        for child in children:
            child.send_signal(2)   # SIGINT: py-spy writes what it has
        for child in children:
            child.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each starts every replica count on both")
    parser.add_argument("--replicas", type=int, nargs="+", default=[30, 100], help="replica counts, in turn")
    parser.add_argument("--profile", type=pathlib.Path, help="directory for py-spy profiles of agent and server")
    args = parser.parse_args()
    os.environ["DOCKER_SERVICE_PREFER_OFFLINE_IMAGE"] = "1"   # the node's dockerd inherits it
    with local_cluster(nodes=1) as cluster, swarm(cluster, cluster.nodes[0]) as engine, \
            profiling(cluster, args.profile):
        rows = asyncio.run(run(cluster, engine, rounds=args.rounds, counts=args.replicas))
    print()
    print_table(rows)
    print()
    summary = []
    for count in args.replicas:
        mine = [r for r in rows if r["replicas"] == count]
        summary.append({"replicas": count, "coxswain median s": statistics.median(r["coxswain s"] for r in mine),
                        "swarm median s": statistics.median(r["swarm s"] for r in mine),
                        "median ratio cox/swarm": f"{statistics.median(float(r['ratio']) for r in mine):.2f}",
                        "target": "<= 1.0",
                        "cox / docker pods": ratio(mine, "coxswain s", "docker pods s"),
                        "swarm / docker tasks": ratio(mine, "swarm s", "docker tasks s"),
                        "docker pods / tasks": ratio(mine, "docker pods s", "docker tasks s"),
                        "full agent RSS MB (max)": max(r["agent RSS MB"] for r in mine)})
    print_table(summary)


if __name__ == "__main__":
    main()
