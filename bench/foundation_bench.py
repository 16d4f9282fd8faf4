"""The foundation's numbers, both store backends, one table (issue: the foundation).

    python bench/foundation_bench.py

Per backend: store writes/s (one writer; 64 concurrent writers), API creates/s
from 16 concurrent gRPC clients to `cox server` running as its own process,
and watch delivery latency p50/p99 with 100 watchers, at the store and
through the API. Each part is also runnable alone: bench/store_bench.py,
bench/api_bench.py.
"""
import argparse
import asyncio
import os
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from bench import api_bench, store_bench  # noqa: E402
from bench.table import print_table  # noqa: E402
from tests.support.etcd import EtcdServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=2000)
    parser.add_argument("--concurrent", type=int, default=20000)
    parser.add_argument("--watch-writes", type=int, default=500)
    api_bench.add_arguments(parser)
    args = parser.parse_args()
    store_args = argparse.Namespace(sequential=args.sequential, concurrent=args.concurrent,
                                    watch_writes=args.watch_writes, rate=100)
    rows = []
    for backend in ("sqlite", "etcd"):
        with tempfile.TemporaryDirectory(prefix="cox-bench-") as tmp:
            if backend == "sqlite":
                store = asyncio.run(store_bench.bench(os.path.join(tmp, "state.db"), store_args))
            else:
                with EtcdServer() as etcd:
                    store = asyncio.run(store_bench.bench(etcd.url, store_args))
        api = asyncio.run(api_bench.bench(backend, args))
        rows.append({"backend": backend, "store seq writes/s": store["sequential"],
                     "store 64-conc writes/s": store["concurrent"], "store watch p99 ms": store["p99"],
                     **{k: v for k, v in api.items() if k != "backend"}})
    print_table(rows, note=f"(100 watchers; {os.cpu_count()} CPUs; targets: >= 5,000 store writes/s "
                           f"concurrent on SQLite, >= 1,000 API creates/s, API watch p99 <= 50 ms)")


if __name__ == "__main__":
    main()
