"""API server benchmark: creates/s and watch delivery latency, per store backend.

    python bench/api_bench.py [--backend sqlite|etcd|both] [--creates 4000] [--watchers 100]

Runs `cox server` as its own process (as deployed, but without its in-process
controller manager and scheduler, so the numbers are the API server's), and
the load from this one: 16 concurrent clients each creating ConfigMaps as fast as they are
acknowledged; then 100 watchers on one namespace while a writer creates
objects stamped with their send time, measuring write -> event received.
"""
import argparse
import asyncio
import contextlib
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from controlplane.api.kinds import KINDS  # noqa: E402
from controlplane.client import Client, load_config  # noqa: E402
from bench.table import print_table  # noqa: E402
from tests.support.control_plane import ServerProcess  # noqa: E402


def configmap(name: str, namespace: str, **annotations):
    return KINDS["ConfigMap"].new(metadata={"name": name, "namespace": namespace, "annotations": annotations},
                                  data={"key": "value"})


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
            lat = await watch_latency(server.config_path, watchers=args.watchers, events=args.events,
                                      rate=args.rate)
    quantiles = statistics.quantiles(lat, n=100)
    return {"backend": backend, "API creates/s (16 clients)": rate,
            "watch deliveries": f"{len(lat):,}/{args.watchers * args.events:,}",
            "API watch p50 ms": quantiles[49] * 1000, "API watch p99 ms": quantiles[98] * 1000}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--creates", type=int, default=4000)
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
