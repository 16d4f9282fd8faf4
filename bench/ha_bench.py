"""The highly available control plane's cost and its failover time (issue 13).

    python bench/ha_bench.py [--creates 2000] [--watchers 50] [--events 100] [--rate 50]

Side by side: one `cox server` over SQLite (the default install) and three `cox server`s over their
embedded etcd (--cluster-init, then two joining with --server), all API servers only, on loopback.
On the three, the 16 writing clients are spread over the servers, and the watchers are on another
server than the writer, so each event crosses the 3-member etcd. Then, with the controllers and the
scheduler running on all three, the server holding the controller manager's Lease is killed (SIGKILL):
the time until a live server holds that Lease (the killed leader's work resumes), and until a client of
all three servers writes again through another.
"""
import argparse
import asyncio
import contextlib
import dataclasses
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from bench.api_bench import add_arguments, creates_per_second, configmap, server_for, watch_latency  # noqa: E402
from bench.table import print_table  # noqa: E402
from controlplane.client import Client, load_config  # noqa: E402
from controlplane.client.errors import ApiError  # noqa: E402
from controlplane.controllers.manager import LEASE_NAME  # noqa: E402
from tests.support.control_plane import ServerProcess  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

API_ONLY = ("--disable-controller-manager", "--disable-scheduler")


@contextlib.contextmanager
def three_servers(workdir: pathlib.Path, *, extra_args=()):
    """Three servers over their embedded etcd on loopback: the first --cluster-init, two joining it."""
    servers = []
    try:
        for i in range(3):
            join = (["--cluster-init"] if i == 0 else
                    ["--server", f"https://127.0.0.1:{servers[0].port}",
                     "--token-file", str(servers[0].data_dir / "server-token")])
            servers.append(ServerProcess(workdir / f"s{i + 1}", extra_args=[
                "--advertise-address", "127.0.0.1", "--no-user-config", "--etcd-client-port", str(free_port()),
                "--etcd-peer-port", str(free_port()), *join, *extra_args]).start(timeout=120))
        yield servers
    finally:
        for server in servers:
            server.stop()


def _all_servers_config(servers, path: pathlib.Path) -> pathlib.Path:
    first = load_config(servers[0].config_path)
    dataclasses.replace(first, server=",".join(f"127.0.0.1:{s.port}" for s in servers)).write(path)
    return path


def _row(setup: str, rate: float, lat: list[float], events: int) -> dict:
    quantiles = statistics.quantiles(lat, n=100)
    return {"control plane": setup, "API creates/s (16 clients)": rate,
            "watch deliveries": f"{len(lat):,}/{events:,}",
            "watch p50 ms": quantiles[49] * 1000, "watch p99 ms": quantiles[98] * 1000}


async def single_sqlite(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="ha-bench-sqlite-") as tmp:
        with server_for("sqlite", pathlib.Path(tmp)) as server:
            rate = await creates_per_second(server.config_path, clients=16, total=args.creates)
            lat = await watch_latency(server.config_path, watchers=args.watchers, events=args.events,
                                      rate=args.rate)
    return _row("1 server, SQLite", rate, lat, args.watchers * args.events)


async def three_embedded(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="ha-bench-etcd-") as tmp:
        with three_servers(pathlib.Path(tmp), extra_args=API_ONLY) as servers:
            paths = [s.config_path for s in servers]
            rate = await creates_per_second(paths[0], clients=16, total=args.creates, others=tuple(paths[1:]))
            lat = await watch_latency(paths[0], watchers=args.watchers, events=args.events, rate=args.rate,
                                      watch_config=paths[1])
    return _row("3 servers, embedded etcd", rate, lat, args.watchers * args.events)


async def _holder_pid(client: Client) -> int:
    lease = await client.resource("Lease").get(LEASE_NAME, namespace="kube-system")
    return int(lease.spec.holder_identity.split("_")[1]) if lease.spec.holder_identity else 0


async def failover(lease_seconds: int) -> dict:
    """Seconds from killing the leader server to a live server's Lease, and to the next write."""
    lease_args = (f"--leader-elect-lease-duration={lease_seconds}",
                  f"--leader-elect-renew-deadline={lease_seconds * 3 // 4}", "--leader-elect-retry-period=1")
    with tempfile.TemporaryDirectory(prefix="ha-bench-failover-") as tmp:
        with three_servers(pathlib.Path(tmp), extra_args=lease_args) as servers:
            by_pid = {s.proc.pid: s for s in servers}
            async with Client(load_config(_all_servers_config(servers, pathlib.Path(tmp) / "all.yaml")),
                              timeout=5) as client:
                leader = 0
                while leader not in by_pid:
                    with contextlib.suppress(ApiError):
                        leader = await _holder_pid(client)
                    await asyncio.sleep(0.2)
                by_pid[leader].kill()
                killed = time.monotonic()
                write = resumed = None
                n = 0
                while write is None or resumed is None:
                    with contextlib.suppress(ApiError):
                        if write is None:
                            await client.resource("ConfigMap").create(configmap(f"after-{n}", "default"))
                            write = time.monotonic() - killed
                        if resumed is None and await _holder_pid(client) in set(by_pid) - {leader}:
                            resumed = time.monotonic() - killed
                    n += 1
                    await asyncio.sleep(0.05)
    return {"Lease duration s": lease_seconds, "leader's work resumed after s": resumed,
            "next write through another server after s": write}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.set_defaults(creates=2000, watchers=50, events=100)
    args = parser.parse_args()
    print_table([asyncio.run(single_sqlite(args)), asyncio.run(three_embedded(args))])
    print()
    print_table([asyncio.run(failover(seconds)) for seconds in (15, 8)],
                note="kill -9 of the server holding the controller manager's Lease, 3 servers, embedded etcd")


if __name__ == "__main__":
    main()
