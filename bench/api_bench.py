"""API server benchmark: creates/s, CPU per write and watch delivery latency, per store backend.

    python bench/api_bench.py [--backend sqlite|etcd|both] [--creates 4000] [--leases 1000] [--watchers 100]

Runs `cox server` as its own process (as deployed, but without its in-process
controller manager and scheduler, so the numbers are the API server's), and
the load from this one: 16 concurrent clients each creating ConfigMaps as fast as they are
acknowledged, then updating each once; Leases renewed as kubelets renew theirs (an update
with a new renewTime, every node's every 10 s); then 100 watchers on one namespace while a
writer creates objects stamped with their send time, measuring write -> event received.

CPU-ms per write is the server process's user + system CPU (/proc/<pid>/stat) over a phase,
divided by the writes in it: unlike the rates, load elsewhere on the machine barely moves it.
Renewals are measured twice: with nobody watching Leases (the scheduler bench's API server)
and with one Lease watcher (a cluster's node lifecycle controller). The no-op RPC (Version)
is the floor every call pays (gRPC, TLS, authentication) before any write starts.
"""
import argparse
import asyncio
import contextlib
import os
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from controlplane.api.kinds import KINDS  # noqa: E402
from controlplane.api.wellknown import NODE_LEASE_NAMESPACE  # noqa: E402
from controlplane.client import Client, load_config  # noqa: E402
from bench.table import print_table  # noqa: E402
from tests.support.control_plane import ServerProcess  # noqa: E402


def configmap(name: str, namespace: str, **annotations):
    return KINDS["ConfigMap"].new(metadata={"name": name, "namespace": namespace, "annotations": annotations},
                                  data={"key": "value"})


def cpu_ms_of(pid: int) -> float:
    """User + system CPU milliseconds a process has used so far (all its threads)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


async def creates_per_second(config_path: pathlib.Path, *, clients: int, total: int,
                             others: tuple[pathlib.Path, ...] = ()) -> float:
    """`others`: configs of more servers; the clients are spread over all of them (HA)."""
    paths = [config_path, *others]
    channels = [Client(load_config(paths[i % len(paths)])) for i in range(clients)]
    per_client = total // clients

    async def run(i: int, client: Client):
        resource = client.resource("ConfigMap")
        for n in range(per_client):
            await resource.create(configmap(f"c{i}-{n}", "default"))

    # Warm the connections first so TLS handshakes are not counted.
    await asyncio.gather(*(c.version() for c in channels))
    start = time.perf_counter()
    await asyncio.gather(*(run(i, c) for i, c in enumerate(channels)))
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in channels))
    return per_client * clients / elapsed


async def cpu_per_write(config_path: pathlib.Path, pid: int, *, clients: int, total: int, leases: int,
                        rounds: int) -> dict:
    """Server CPU-ms per ConfigMap create, per ConfigMap update and per Lease renewal (kubelet-style),
    each phase `clients` concurrent writers as fast as they are acknowledged."""
    channels = [Client(load_config(config_path)) for _ in range(clients)]
    await asyncio.gather(*(c.version() for c in channels))

    async def phase(work) -> str:
        """CPU-ms per write of running work(i, client) -> writes on every client at once, in hundredths
        (a tenth is a tenth of the whole no-op RPC: too coarse to tell a change from the noise)."""
        before = cpu_ms_of(pid)
        counts = await asyncio.gather(*(work(i, c) for i, c in enumerate(channels)))
        return f"{(cpu_ms_of(pid) - before) / sum(counts):.2f}"

    written: list[list] = [[] for _ in channels]

    async def create(i: int, client: Client) -> int:
        resource = client.resource("ConfigMap")
        for n in range(total // clients):
            written[i].append(await resource.create(configmap(f"u{i}-{n}", "default")))
        return total // clients

    async def update(i: int, client: Client) -> int:
        resource = client.resource("ConfigMap")
        for obj in written[i]:
            obj.data["key"] = "updated"
            await resource.update(obj)
        return len(written[i])

    held: list[list] = [[] for _ in channels]

    async def create_leases(i: int, client: Client) -> int:
        resource = client.resource("Lease")
        for n in range(i, leases, clients):
            lease = KINDS["Lease"].new(metadata={"name": f"node-{n}", "namespace": NODE_LEASE_NAMESPACE},
                                       spec={"holder_identity": f"node-{n}", "lease_duration_seconds": 40})
            lease.spec.renew_time.GetCurrentTime()
            held[i].append(await resource.create(lease))
        return len(held[i])

    async def renew(i: int, client: Client) -> int:
        """What agent/kubelet/node.py does every 10 s: the Lease it holds with a new renewTime."""
        resource = client.resource("Lease")
        for _ in range(rounds):
            for n, lease in enumerate(held[i]):
                lease.spec.renew_time.GetCurrentTime()
                held[i][n] = await resource.update(lease)
        return rounds * len(held[i])

    async def version(_i: int, client: Client) -> int:
        for _ in range(total // clients):
            await client.version()
        return total // clients

    row = {"CPU-ms/no-op RPC": await phase(version), "CPU-ms/create": await phase(create),
           "CPU-ms/update": await phase(update)}
    await phase(create_leases)
    row["CPU-ms/renewal"] = await phase(renew)
    watcher = asyncio.create_task(_drain(channels[0].resource("Lease").watch(namespace=NODE_LEASE_NAMESPACE)))
    await asyncio.sleep(1.0)  # let the watch open
    row["CPU-ms/renewal (1 Lease watcher)"] = await phase(renew)
    watcher.cancel()
    await asyncio.gather(watcher, return_exceptions=True)
    await asyncio.gather(*(c.close() for c in channels))
    return row


async def _drain(events) -> None:
    async for _ in events:
        pass


async def watch_latency(config_path: pathlib.Path, *, watchers: int, events: int, rate: float,
                        watch_config: pathlib.Path | None = None):
    """Latencies (seconds) from create acknowledged-send to each watcher's receipt; the watchers through
    `watch_config` if given (another server: the write reaches them through the shared store)."""
    writer = Client(load_config(config_path))
    await writer.resource("Namespace").create(KINDS["Namespace"].new(metadata={"name": "watched"}))
    since = (await writer.resource("ConfigMap").list(namespace="watched")).metadata.resource_version
    clients = [Client(load_config(watch_config or config_path)) for _ in range(min(watchers, 10))]
    latencies: list[float] = []
    done = asyncio.Event()
    remaining = [watchers * events]

    async def watch(client: Client):
        async for event in client.resource("ConfigMap").watch(namespace="watched", resource_version=since):
            if event.type == "ADDED":
                latencies.append(time.time() - float(event.object.metadata.annotations["sent"]))
                remaining[0] -= 1
                if remaining[0] == 0:
                    done.set()

    await timed_writes(writer, "watched", [watch(clients[i % len(clients)]) for i in range(watchers)],
                       events=events, rate=rate, done=done)
    await asyncio.gather(writer.close(), *(c.close() for c in clients))
    return latencies


async def timed_writes(writer: Client, namespace: str, watches: list, *, events: int, rate: float,
                       done: asyncio.Event) -> None:
    """Run the watches while `events` ConfigMaps stamped with their send time are written; stop them
    once `done` is set (every delivery seen) or 30 s have passed."""
    tasks = [asyncio.create_task(w) for w in watches]
    await asyncio.sleep(1.0)  # let every watch open
    for n in range(events):
        await writer.resource("ConfigMap").create(configmap(f"w{n}", namespace, sent=repr(time.time())))
        await asyncio.sleep(1 / rate)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(done.wait(), 30)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.contextmanager
def server_for(backend: str, workdir: pathlib.Path, *, extra_args=()):
    extra: list[str] = ["--disable-controller-manager", "--disable-scheduler", *extra_args]
    etcd = None
    if backend == "etcd":
        from tests.support.etcd import EtcdServer
        etcd = EtcdServer().start()
        extra += ["--datastore", etcd.url]
    server = ServerProcess(workdir / "data", extra_args=extra).start()
    try:
        yield server
    finally:
        server.stop()
        if etcd:
            etcd.stop()


async def bench(backend: str, args) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"api-bench-{backend}-") as tmp:
        with server_for(backend, pathlib.Path(tmp)) as server:
            rate = await creates_per_second(server.config_path, clients=16, total=args.creates)
            cpu = await cpu_per_write(server.config_path, server.proc.pid, clients=16, total=args.creates,
                                      leases=args.leases, rounds=args.renewals)
            lat = await watch_latency(server.config_path, watchers=args.watchers, events=args.events,
                                      rate=args.rate)
    quantiles = statistics.quantiles(lat, n=100)
    return {"backend": backend, "API creates/s (16 clients)": rate, **cpu,
            "watch deliveries": f"{len(lat):,}/{args.watchers * args.events:,}",
            "API watch p50 ms": quantiles[49] * 1000, "API watch p99 ms": quantiles[98] * 1000}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--creates", type=int, default=4000)
    parser.add_argument("--leases", type=int, default=1000, help="Leases renewed, as many kubelets")
    parser.add_argument("--renewals", type=int, default=3, help="rounds of renewing every Lease")
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--events", type=int, default=200, help="objects written while watched")
    parser.add_argument("--rate", type=float, default=50, help="writes/s while watched")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "etcd", "both"], default="both")
    add_arguments(parser)
    args = parser.parse_args()
    backends = ["sqlite", "etcd"] if args.backend == "both" else [args.backend]
    print_table([asyncio.run(bench(b, args)) for b in backends])


if __name__ == "__main__":
    main()
