"""What ResourceQuota admission costs: ConfigMap creates/s in a namespace without a quota, with a quota that
does not count ConfigMaps, and with one that does (each create then also reads the quota and writes its
status.used, conditional on its resourceVersion, before the ConfigMap is written).

    python bench/quota_bench.py [--requests 2000] [--rounds 2] [--backend sqlite|etcd]

One `cox server` process (API server only; the quota's status is set by hand, as the controller would),
16 clients; the best of `--rounds` rounds counts. The peer column is the same server without quotas.
"""
import argparse
import asyncio
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from bench.api_bench import server_for  # noqa: E402
from bench.authz_bench import CLIENTS, rate  # noqa: E402
from bench.table import print_table  # noqa: E402
from controlplane.api.kinds import KINDS  # noqa: E402
from controlplane.client import Client, load_config  # noqa: E402

CASES = {"no quota": None, "quota, not counting configmaps": {"pods": "1000"},
         "quota counting configmaps": {"configmaps": "1000000"}}


async def prepare(config, namespace: str, hard: dict | None) -> None:
    client = Client(config)
    try:
        await client.resource("Namespace").create(KINDS["Namespace"].new(metadata={"name": namespace}))
        if hard is not None:
            quotas = client.resource("ResourceQuota")
            quota = await quotas.create(KINDS["ResourceQuota"].new(metadata={"name": "q", "namespace": namespace},
                                                                   spec={"hard": hard}))
            quota.status.hard.update(hard)
            quota.status.used.update({name: "0" for name in hard})
            await quotas.update_status(quota)
            await quotas.list(namespace=namespace)   # in the server's watch cache once this returns
    finally:
        await client.close()


async def bench(args) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="quota-bench-") as tmp:
        with server_for(args.backend, pathlib.Path(tmp)) as server:
            config = load_config(server.config_path)
            base = None
            for index, (case, hard) in enumerate(CASES.items()):
                namespace = f"bench-{index}"
                await prepare(config, namespace, hard)
                best = (0.0, 0.0)
                for round_ in range(args.rounds):
                    def create(c, i, n, r=round_, ns=namespace):
                        return c.resource("ConfigMap").create(KINDS["ConfigMap"].new(
                            metadata={"name": f"c{r}-{i}-{n}", "namespace": ns}, data={"k": "v"}))
                    measured = await rate(config, args.requests, create)
                    best = max(best, measured)
                base = base or best[0]
                rows.append({"case": case, "creates/s": best[0], "p99 ms": best[1],
                             "peer (no quota) creates/s": base, "vs peer": f"{best[0] / base:.2f}"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backend", choices=("sqlite", "etcd"), default="sqlite")
    args = parser.parse_args()
    print_table(asyncio.run(bench(args)),
                note=f"{CLIENTS} clients, {args.requests} ConfigMap creates per round, {args.backend} store")


if __name__ == "__main__":
    main()
