"""Benchmark of the pod network, Services and cluster DNS on a local cluster it brings up and removes.

  sudo /opt/coxswain/venv/bin/python bench/network_bench.py [--nodes 3] [--requests 200] [--queries 2000]

Measures: `cox local up` and `down`; one HTTP request from a pod to a pod on
the same node, on another node, and through a ClusterIP (busybox wget in a
loop inside the pod, so each includes starting wget); cluster DNS lookups
from a process in a node (sequential, UDP); and, after scaling a Deployment
from 0 to 3, the time until a pod's first request through the Service is
answered.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import secrets
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from bench.table import print_table  # noqa: E402
from localcluster import cluster as localcluster  # noqa: E402
from localcluster.layout import Layout  # noqa: E402
from localcluster.cluster import ClusterState  # noqa: E402
from tests.e2e.workloads import (HTTP_PORT, HTTPD, deployment, exec_in_pod, pod, ready_endpoints,  # noqa: E402
                                 running_pod, service)
from tests.support.cluster import Cluster  # noqa: E402
from tests.support.polling import eventually  # noqa: E402

DNS_CLIENT = """
import json, sys, time
from dnslib import DNSRecord
name, count = sys.argv[1], int(sys.argv[2])
packet = DNSRecord.question(name).pack()
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("169.254.20.10", 53))
times = []
for _ in range(count):
    t = time.perf_counter()
    s.send(packet)
    s.recv(4096)
    times.append(time.perf_counter() - t)
print(json.dumps(times))
"""


def per_request_ms(cluster: Cluster, caller, url: str, count: int) -> float:
    loop = (f"s=$(cut -d' ' -f1 /proc/uptime); for i in $(seq {count}); do timeout 5 wget -q -O /dev/null {url} "
            f"|| echo FAIL; done; echo $s $(cut -d' ' -f1 /proc/uptime)")
    code, out = exec_in_pod(cluster, caller, loop)
    assert code == 0 and "FAIL" not in out, out[-300:]
    start, end = out.split()[-2:]
    return (float(end) - float(start)) * 1000 / count


async def measure(cluster: Cluster, args) -> list[dict]:
    rows = []
    async with cluster.client() as client:
        pods = client.resource("Pod")
        await pods.create(pod("bench-server", node="node1", command=HTTPD))
        await pods.create(pod("bench-near", node="node1"))
        await pods.create(pod("bench-far", node="node2"))
        server = await running_pod(client, "bench-server")
        near, far = await running_pod(client, "bench-near"), await running_pod(client, "bench-far")
        await client.resource("Deployment").create(deployment("web", replicas=3))
        svc = await client.resource("Service").create(service("web"))

        async def three_ready():
            return len(await ready_endpoints(client, "web")) == 3
        await eventually(three_ready, timeout=60)

        pod_url = f"http://{server.status.pod_ip}:{HTTP_PORT}/"
        for what, caller, url in (("pod -> pod, same node", near, pod_url),
                                  ("pod -> pod, other node", far, pod_url),
                                  ("pod -> ClusterIP (3 endpoints)", far, f"http://{svc.spec.cluster_ip}/"),
                                  ("pod -> Service by DNS name", far, "http://web/")):
            ms = await asyncio.to_thread(per_request_ms, cluster, caller, url, args.requests)
            rows.append({"measure": f"HTTP request, {what} (wget in a loop)", "value": ms, "unit": "ms/request"})

        done = await asyncio.to_thread(
            subprocess.run, ["nsenter", f"--net=/run/netns/{cluster.netns('node1')}", sys.executable, "-c",
                             DNS_CLIENT, "web.default.svc.cluster.local", str(args.queries)],
            capture_output=True, text=True, check=True)
        times = sorted(json.loads(done.stdout))
        rows.append({"measure": "DNS lookup of a Service from a node: median", "value": statistics.median(times) * 1e3,
                     "unit": "ms"})
        rows.append({"measure": "DNS lookup of a Service from a node: p99", "value": times[int(len(times) * .99)] * 1e3,
                     "unit": "ms"})
        rows.append({"measure": "DNS lookups one after another", "value": len(times) / sum(times), "unit": "per s"})

        deployments = client.resource("Deployment")
        for round_ in range(args.rounds):
            web = await deployments.get("web", namespace="default")
            web.spec.replicas = 0
            await deployments.update(web)

            async def none_ready():
                return await ready_endpoints(client, "web") == []
            await eventually(none_ready, timeout=60)
            web = await deployments.get("web", namespace="default")
            web.spec.replicas = 3
            started = time.monotonic()
            await deployments.update(web)

            async def answered():
                code, _ = await asyncio.to_thread(exec_in_pod, cluster, far,
                                                  f"timeout 2 wget -q -O /dev/null http://{svc.spec.cluster_ip}/")
                return code == 0
            await eventually(answered, timeout=60, interval=0.02)
            rows.append({"measure": f"scale 0 -> 3, first answer through the Service (round {round_ + 1})",
                         "value": time.monotonic() - started, "unit": "s"})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    name = f"b{secrets.token_hex(3)}"
    state_dir = pathlib.Path(tempfile.mkdtemp(prefix=f"cox-{name}-"))
    rows = []
    try:
        started = time.monotonic()
        info = localcluster.up(name, nodes=args.nodes, state_dir=state_dir)
        rows.append({"measure": f"cox local up, {args.nodes} nodes (all Ready with a pod network)",
                     "value": time.monotonic() - started, "unit": "s"})
        layout = Layout.of(name, state_dir=state_dir)
        rows += asyncio.run(measure(Cluster(info=info, layout=layout, state=ClusterState.load(layout)), args))
    finally:
        started = time.monotonic()
        localcluster.down(name, state_dir=state_dir)
        rows.append({"measure": "cox local down", "value": time.monotonic() - started, "unit": "s"})
    print_table(rows, note="(wget starts a process per request; one 2-core machine shared with other work)")


if __name__ == "__main__":
    main()
