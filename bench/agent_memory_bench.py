"""The full node agent's memory, idle and with 30 pods Running (issue 16: <= 60 MB RSS with 30 pods).

    python bench/agent_memory_bench.py [--pods 30] [--settle 20]

One `cox local` node (tests/support/cluster.py): its `cox agent` runs the
kubelet, the Service proxy, the pod network and cluster DNS in one process.
The agent's memory (tests/support/procmem.py, from /proc) is read

- idle: the node registered and `--settle` seconds later (informers synced,
  the first resource-usage report sent);
- with N pods: a Deployment's N replicas seen Running by one watch (the
  peer bench's round, bench/peer_bench.py), then `--settle` seconds for the
  status updates and the next usage report;
- after: the Deployment deleted, its containers gone, `--settle` seconds.

RSS counts shared library pages too; PSS shares them out, USS is the
agent's own. Memory, unlike time, is not distorted by a loaded machine.
The peer: k3s's agent holds about 275 MB (issue 16).
"""
import argparse
import asyncio
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from agent.runtime import labels  # noqa: E402
from bench.peer_bench import NAMESPACE, until_running, wait_quiet  # noqa: E402
from bench.table import print_table  # noqa: E402
from tests.support.cluster import Cluster, local_cluster  # noqa: E402
from tests.support.procmem import memory  # noqa: E402

TARGET_MB = 60
K3S_AGENT_MB = 275


async def measure(cluster: Cluster, *, pods: int, settle: float) -> list[dict]:
    pid = cluster.state.nodes[0].agent.pid
    api = cluster.docker(cluster.nodes[0])
    rows = []

    def row(phase: str, running: int) -> None:
        rows.append({"phase": phase, "pods": running, **memory(pid)})
        print(rows[-1], flush=True)

    async with cluster.client() as client:
        await asyncio.sleep(settle)
        row("idle", 0)
        took = await until_running(client, "mem", pods)
        print(f"{pods} pods Running after {took:.1f} s", flush=True)
        row(f"{pods} pods Running", pods)
        await asyncio.sleep(settle)
        row(f"{pods} pods, +{settle:g} s", pods)
        await client.resource("Deployment").delete("mem", namespace=NAMESPACE, propagation_policy="Background")
        await asyncio.to_thread(wait_quiet, api, labels.managed_filter())
        await asyncio.sleep(settle)
        row("pods deleted", 0)
    api.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=30, help="replicas of the Deployment (default 30)")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds to wait before each reading")
    args = parser.parse_args()
    began = time.monotonic()
    with local_cluster(nodes=1) as cluster:
        rows = asyncio.run(measure(cluster, pods=args.pods, settle=args.settle))
    print()
    print_table(rows, note=f"target: <= {TARGET_MB} MB RSS with {args.pods} pods; k3s agent: ~{K3S_AGENT_MB} MB "
                           f"(run took {time.monotonic() - began:.0f} s)")


if __name__ == "__main__":
    main()
