"""Benchmark of the nftables proxy, in network namespaces it makes and removes.

  sudo /opt/coxswain/venv/bin/python bench/proxy_bench.py [--sizes 1000 10000] [--connections 300]

Measures: rendering and applying N Services x 3 endpoints in full; one
endpoint change applied as a partial transaction at the largest N; and the
cost of a new TCP connection to one Service with 10 and with the largest N
Services installed (the verdict map makes dispatch independent of N).
"""
from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from agent.proxy.applier import Applier  # noqa: E402
from agent.proxy.model import Endpoint, ProxyState, ServicePortInfo, ServicePortName  # noqa: E402
from agent.proxy.names import table_name  # noqa: E402
from agent.proxy.proxier import Proxier  # noqa: E402
from agent.proxy.render import full_transaction  # noqa: E402
from agent.proxy.sink import ensure_service_sink  # noqa: E402
from tests.support.netns import Lab, unique_name  # noqa: E402

ECHO = str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "proxy" / "echo.py")
WEB = ServicePortName("default", "web", "http")
WEB_IP, POD_IP = "10.96.0.10", "10.244.0.11"


def state(count: int) -> ProxyState:
    """`count` filler Services with 3 (unreachable) endpoints each, plus the real web Service."""
    services = {WEB: ServicePortInfo(WEB_IP, 80)}
    endpoints = {WEB: (Endpoint(POD_IP, 8080),)}
    for i in range(count):
        name = ServicePortName("bench", f"svc{i}", "http")
        services[name] = ServicePortInfo(f"10.{97 + i // 65000}.{i // 250 % 256}.{i % 250 + 1}", 80)
        endpoints[name] = tuple(Endpoint(f"10.{200 + e}.{i // 250 % 256}.{i % 250 + 1}", 8080) for e in range(3))
    return ProxyState(services=services, endpoints=endpoints, node_ips=frozenset({"198.18.0.11"}))


def one_change(base: ProxyState, i: int, round_: int) -> ProxyState:
    """base with service i's third endpoint replaced (a new address each round); other entries shared."""
    name = ServicePortName("bench", f"svc{i}", "http")
    endpoints = dict(base.endpoints)
    endpoints[name] = base.endpoints[name][:2] + (Endpoint(f"10.250.{round_ // 250}.{round_ % 250 + 1}", 8080),)
    return ProxyState(services=base.services, endpoints=endpoints, node_ips=base.node_ips)


def connection_seconds(lab_node, count: int) -> float:
    out = lab_node.run(sys.executable, ECHO, "time", WEB_IP, "80", str(count)).stdout
    return statistics.median(json.loads(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--connections", type=int, default=300)
    ap.add_argument("--changes", type=int, default=7)
    args = ap.parse_args()
    largest = max(args.sizes)
    rows = []
    with Lab() as lab:
        node = lab.netns("bnode")
        node.sysctl("net.ipv4.ip_forward", 1)
        bridge = lab.bridge(node, address="10.244.0.1/24", prefix="bbr")
        pod = lab.netns("bpod")
        lab.veth(node, pod, a_bridge=bridge, b_address=f"{POD_IP}/24", b_gateway="10.244.0.1")
        server = lab.process(pod, sys.executable, ECHO, "serve", "web", "8080", stdout=subprocess.PIPE, text=True)
        server.stdout.readline()
        ensure_service_sink(cidr="10.96.0.0/12", netns=node.name)
        applier = Applier(netns=node.name)
        table = table_name(unique_name("bench"))

        for count in args.sizes:
            desired = state(count)
            started = time.perf_counter()
            commands = full_transaction(table, desired)
            rendered = time.perf_counter() - started
            started = time.perf_counter()
            applier.apply(commands)
            applied = time.perf_counter() - started
            rows.append((f"full sync, {count:,} services x 3 endpoints: render", rendered, None))
            rows.append((f"full sync, {count:,} services x 3 endpoints: JSON + nft", applied, None))
            rows.append((f"full sync, {count:,} services x 3 endpoints: total", rendered + applied,
                         2.0 if count == 10000 else None))

        proxier = Proxier(table=table, applier=applier)
        base = state(largest)
        proxier.update(base)
        proxier.sync()
        times = []
        for round_ in range(args.changes):
            proxier.update(one_change(base, largest // 2, round_))
            result = proxier.sync()
            assert not result.full
            times.append(result.seconds)
        rows.append((f"one endpoint change at {largest:,} services (median of {args.changes})",
                     statistics.median(times), 0.020))

        small = Proxier(table=table, applier=applier)
        small.update(state(10))
        small.sync()
        at_10 = connection_seconds(node, args.connections)
        proxier = Proxier(table=table, applier=applier)
        proxier.update(base)
        proxier.sync()
        at_large = connection_seconds(node, args.connections)
        rows.append(("TCP connection to a Service, 10 services installed (median)", at_10, None))
        rows.append((f"TCP connection to a Service, {largest:,} services installed (median)", at_large,
                     at_10 * 1.10))

    print(f"{'measure':<72} {'ms':>10} {'target ms':>10}  met")
    for label, seconds, target in rows:
        verdict = "" if target is None else ("yes" if seconds <= target else "NO")
        target_text = "" if target is None else f"{target * 1000:.3f}"
        print(f"{label:<72} {seconds * 1000:>10.3f} {target_text:>10}  {verdict}")


if __name__ == "__main__":
    main()
