"""Benchmark of the nftables proxy, in network namespaces it makes and removes.

  sudo /opt/coxswain/venv/bin/python bench/proxy_bench.py [--sizes 1000 10000] [--connections 300]

Measures: rendering and applying N Services x 3 endpoints in full (through
netlink, as the agent does; and through `nft -f` at the largest N, for
comparison); at the largest N, one endpoint replaced and one endpoint added,
each applied as a partial transaction the way the controller drives it (the
proxier told which Service port changed, and noting which pods it programmed);
what noting every backend as newly programmed adds to a first sync; and the cost of a new TCP connection
to one Service with 10 and with the largest N Services installed (verdict and
endpoint maps make it independent of N): two nodes, one with each table,
measured in alternating rounds; the median over rounds of each round's median.

The "cpu ms" column is the user + system time of this process and of the
processes it ran (nft) over the same span; system time includes the kernel's
work on the batch. On a shared machine it says what the work costs when wall
time is stretched by other load.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import pathlib
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from agent.proxy.applier import NetlinkApplier  # noqa: E402
from agent.proxy.model import Endpoint, ProxyState, ServicePortInfo, ServicePortName  # noqa: E402
from agent.proxy.names import table_name  # noqa: E402
from agent.proxy.programmed import ProgrammedRecord  # noqa: E402
from agent.proxy.proxier import Proxier  # noqa: E402
from agent.proxy.render import full_transaction  # noqa: E402
from agent.proxy.sink import ensure_service_sink  # noqa: E402
from tests.proxy.nftcli import Nft  # noqa: E402
from tests.support.netns import Lab, Netns, unique_name  # noqa: E402

ECHO = str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "proxy" / "echo.py")
WEB = ServicePortName("default", "web", "http")
# Every address in the benchmarking range 198.18.0.0/15: ClusterIPs in SERVICE_CIDR (sunk on the node), the
# web pod on its bridge's /24 at the start of PODS, the filler endpoints (never connected to) after it.
SERVICE_CIDR, PODS = ipaddress.ip_network("198.18.128.0/17"), ipaddress.ip_network("198.19.0.0/16")
WEB_IP, POD_IP, BRIDGE_IP = str(SERVICE_CIDR[10]), str(PODS[11]), str(PODS[1])
FILLER_SERVICES, FILLER_PODS = SERVICE_CIDR[256], PODS[256]   # past the first /24 of each
NEW_ENDPOINTS = PODS[-2]   # counting down from here, one per round of changes
MAX_SERVICES = 20_000      # 3 endpoints each, and the new endpoints, in PODS


def bench_name(i: int) -> ServicePortName:
    return ServicePortName("bench", f"svc{i}", "http")


def state(count: int) -> ProxyState:
    """`count` filler Services with 3 (unreachable) endpoints each, plus the real web Service."""
    services = {WEB: ServicePortInfo(WEB_IP, 80)}
    endpoints = {WEB: (Endpoint(POD_IP, 8080, uid="web-pod"),)}
    for i in range(count):
        name = bench_name(i)
        services[name] = ServicePortInfo(str(FILLER_SERVICES + i), 80)
        endpoints[name] = tuple(Endpoint(str(FILLER_PODS + 3 * i + e), 8080, uid=f"pod-{3 * i + e}")
                                for e in range(3))
    return ProxyState(services=services, endpoints=endpoints, node_ips=frozenset({"198.18.0.11"}))


def with_endpoints(base: ProxyState, name: ServicePortName, endpoints: tuple[Endpoint, ...]) -> ProxyState:
    """base with one Service port's endpoints replaced; every other entry is the same object."""
    return ProxyState(services=base.services, endpoints={**base.endpoints, name: endpoints}, node_ips=base.node_ips)


def new_endpoint(round_: int) -> Endpoint:
    return Endpoint(str(NEW_ENDPOINTS - round_), 8080, uid=f"new-pod-{round_}")


class Clock:
    """Wall and CPU (user + system, this process and the processes it waited for) time of a span."""

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self._wall, _cpu() - self._cpu


def _cpu() -> float:
    return sum(usage.ru_utime + usage.ru_stime
               for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def partial_changes(proxier: Proxier, base: ProxyState, name: ServicePortName, changes: int,
                    endpoints_for) -> tuple[float, float]:
    """Median wall and CPU seconds of `changes` syncs, each from `base` to base with `name`'s
    endpoints set to endpoints_for(round), told to the proxier as the controller tells it."""
    walls, cpus = [], []
    for round_ in range(changes):
        for state in (with_endpoints(base, name, endpoints_for(round_)), base):
            proxier.update(state, changed=[name])
            with Clock() as clock:
                result = proxier.sync()
            assert not result.full
            if state is not base:
                walls.append(clock.wall)
                cpus.append(clock.cpu)
    return statistics.median(walls), statistics.median(cpus)


def connection_seconds(lab_node, count: int) -> float:
    out = lab_node.run(sys.executable, ECHO, "time", WEB_IP, "80", str(count)).stdout
    return statistics.median(json.loads(out))


def node_with_web_pod(lab: Lab, tag: str) -> tuple[Netns, NetlinkApplier]:
    """A node namespace with the Service CIDR sunk and one pod answering on POD_IP:8080."""
    node = lab.netns(f"{tag}node")
    node.sysctl("net.ipv4.ip_forward", 1)
    bridge = lab.bridge(node, address=f"{BRIDGE_IP}/24", prefix=f"{tag}br")
    pod = lab.netns(f"{tag}pod")
    lab.veth(node, pod, a_bridge=bridge, b_address=f"{POD_IP}/24", b_gateway=BRIDGE_IP)
    server = lab.process(pod, sys.executable, ECHO, "serve", "web", "8080", stdout=subprocess.PIPE, text=True)
    server.stdout.readline()
    ensure_service_sink(cidr=str(SERVICE_CIDR), netns=node.name)
    return node, NetlinkApplier(netns=node.name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--connections", type=int, default=200, help="TCP connections per round")
    ap.add_argument("--changes", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=7, help="rounds of connections to each node")
    args = ap.parse_args()
    largest = max(args.sizes)
    if largest > MAX_SERVICES:
        ap.error(f"--sizes: at most {MAX_SERVICES:,} (the addresses of 198.18.0.0/15 the bench uses)")
    rows = []
    with Lab() as lab:
        node, applier = node_with_web_pod(lab, "b")
        table = table_name(unique_name("bench"))

        for count in args.sizes:
            desired = state(count)
            with Clock() as render:
                commands = full_transaction(table, desired)
            with Clock() as apply:
                applier.apply(commands)
            label = f"full sync, {count:,} services x 3 endpoints"
            rows.append((f"{label}: render", render, None))
            rows.append((f"{label}: encode + kernel", apply, None))
            rows.append((f"{label}: total", (render.wall + apply.wall, render.cpu + apply.cpu),
                         2.0 if count == 10000 else None))
            if count == largest:
                with Clock() as nft:
                    Nft(node.name).apply(commands)
                rows.append((f"{label}: nft -f instead (comparison)", nft, None))

        base = state(largest)
        with Clock() as record:   # what a first sync adds to note every backend as newly programmed
            ProgrammedRecord().note(base, changed=None, at=time.time())
        rows.append((f"record of programmed pods, first sync at {largest:,} services (every backend new)",
                     record, None))
        proxier = Proxier(table=table, applier=applier)
        proxier.update(base)
        proxier.sync()
        name = bench_name(largest // 2)
        three = base.endpoints[name]
        rows.append((f"one endpoint replaced at {largest:,} services (median of {args.changes})",
                     partial_changes(proxier, base, name, args.changes, lambda r: three[:2] + (new_endpoint(r),)),
                     0.020))
        rows.append((f"one endpoint added at {largest:,} services (median of {args.changes})",
                     partial_changes(proxier, base, name, args.changes, lambda r: three + (new_endpoint(r),)),
                     0.020))

        # The same Service on a second node with 10 Services; connections to the two nodes
        # alternate in rounds, so load from elsewhere on the machine hits both alike.
        small_node, small_applier = node_with_web_pod(lab, "s")
        small = Proxier(table=table, applier=small_applier)
        small.update(state(10))
        small.sync()
        at_10, at_large = [], []
        for _ in range(args.rounds):
            at_10.append(connection_seconds(small_node, args.connections))
            at_large.append(connection_seconds(node, args.connections))
        at_10_median = statistics.median(at_10)
        rows.append(("new TCP connection to a Service, 10 services installed", (at_10_median, None), None))
        rows.append((f"new TCP connection to a Service, {largest:,} services installed",
                     (statistics.median(at_large), None), at_10_median * 1.10))
        applier.close()
        small_applier.close()

    print(f"{'measure':<72} {'ms':>10} {'cpu ms':>10} {'target ms':>10}  met")
    for label, measured, target in rows:
        wall, cpu = (measured.wall, measured.cpu) if isinstance(measured, Clock) else measured
        verdict = "" if target is None else ("yes" if wall <= target else "NO")
        cpu_text = "" if cpu is None else f"{cpu * 1000:.1f}"
        target_text = "" if target is None else f"{target * 1000:.3f}"
        print(f"{label:<72} {wall * 1000:>10.3f} {cpu_text:>10} {target_text:>10}  {verdict}")


if __name__ == "__main__":
    main()
