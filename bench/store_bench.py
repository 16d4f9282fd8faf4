"""Store benchmark: `python bench/store_bench.py` prints one row per backend.

- sequential: one writer, each create waits for the previous one.
- 64 concurrent: 64 writers at once; SQLite's group commit shows here.
- watch p50/p99: 100 watches on one prefix, one writer at a steady rate; the
  latency is from just before put() to the event arriving at each watch.

It starts its own etcd (tests/support/etcd.py) and a SQLite file in a
temporary directory. The machine is shared, so numbers are indicative.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from controlplane.store import Event, Store, open_store  # noqa: E402
from tests.support.etcd import EtcdServer  # noqa: E402

VALUE = b"x" * 512  # about the size of a small serialized pod


async def writes_per_second(store: Store, prefix: str, *, writers: int, total: int) -> float:
    per_writer = total // writers

    async def writer(w: int) -> None:
        for i in range(per_writer):
            result = await store.put(f"{prefix}{w}/{i}", VALUE, expect_mod_revision=0)
            assert result.succeeded

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    return writers * per_writer / (time.perf_counter() - started)


async def watch_latency(store: Store, prefix: str, *, watchers: int, writes: int,
                        rate: float) -> tuple[float, float]:
    """p50 and p99 in milliseconds of write -> event received, over every watch and write."""
    sent: dict[str, float] = {}
    latencies: list[float] = []
    start = await store.current_revision() + 1
    watches = [await store.watch(prefix, start_revision=start) for _ in range(watchers)]

    async def receive(watch) -> None:
        seen = 0
        async for event in watch:
            if event.type == Event.PUT:
                latencies.append(time.perf_counter() - sent[event.kv.key])
                seen += 1
                if seen == writes:
                    return

    receivers = [asyncio.create_task(receive(w)) for w in watches]
    try:
        for i in range(writes):
            key = f"{prefix}{i}"
            sent[key] = time.perf_counter()
            await store.put(key, VALUE, expect_mod_revision=None)
            await asyncio.sleep(1 / rate)
        await asyncio.wait_for(asyncio.gather(*receivers), 60)
    finally:
        for task in receivers:
            task.cancel()
        for watch in watches:
            await watch.close()
    quantiles = statistics.quantiles(latencies, n=100)
    return quantiles[49] * 1000, quantiles[98] * 1000


async def bench(url: str, args) -> dict:
    store = await open_store(url)
    try:
        row = {"sequential": await writes_per_second(store, "/bench/seq/", writers=1, total=args.sequential)}
        commits = getattr(store, "commits", None)
        row["concurrent"] = await writes_per_second(store, "/bench/conc/", writers=64, total=args.concurrent)
        if commits is not None:
            row["writes/commit"] = args.concurrent / (store.commits - commits)
        row["p50"], row["p99"] = await watch_latency(store, "/bench/watch/", watchers=100,
                                                     writes=args.watch_writes, rate=args.rate)
        return row
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=2000, help="writes in the sequential run")
    parser.add_argument("--concurrent", type=int, default=20000, help="writes in the 64-writer run")
    parser.add_argument("--watch-writes", type=int, default=500, help="writes seen by the 100 watches")
    parser.add_argument("--rate", type=float, default=100, help="writes/s during the watch run")
    args = parser.parse_args()

    rows = {}
    with tempfile.TemporaryDirectory(prefix="cox-bench-") as tmp:
        rows["sqlite"] = asyncio.run(bench(os.path.join(tmp, "state.db"), args))
    with EtcdServer() as etcd:
        rows["etcd"] = asyncio.run(bench(etcd.url, args))

    print(f"{'backend':8} {'seq writes/s':>13} {'64-conc writes/s':>17} {'writes/commit':>14} "
          f"{'watch p50 ms':>13} {'watch p99 ms':>13}")
    for name, row in rows.items():
        per_commit = f"{row['writes/commit']:.1f}" if "writes/commit" in row else "-"
        print(f"{name:8} {row['sequential']:13,.0f} {row['concurrent']:17,.0f} {per_commit:>14} "
              f"{row['p50']:13.2f} {row['p99']:13.2f}")
    print(f"(100 watches on one prefix, {args.watch_writes} writes at {args.rate:g}/s; "
          f"{os.cpu_count()} CPUs, shared machine)")


if __name__ == "__main__":
    main()
