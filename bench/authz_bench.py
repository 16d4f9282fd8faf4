"""What authorization costs a request: the same calls as the admin and as a node, in one run.

    python bench/authz_bench.py [--requests 4000] [--pods 1000]

One `cox server` process (API server only, SQLite). 16 clients create Events
(a write both identities may make) as fast as they are acknowledged, first as
the admin (system:masters: the chain's fixed table allows at once), then as
node bench-node (system:node:bench-node: the node authorizer decides, and
NodeRestriction looks at nothing for Events). Then Gets of a Secret that one
of `--pods` pods bound to the node names, as the admin and as the node: the
node authorizer walks the namespace's pods in the watch cache to allow it, the
most it ever does for one request. Rounds alternate between the two; prints
the best requests/s of each and the node's rate as a share of the admin's.
"""
import argparse
import asyncio
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from agent.kubelet.credential import request_credential  # noqa: E402
from bench.api_bench import server_for  # noqa: E402
from bench.table import print_table  # noqa: E402
from controlplane.api.kinds import KINDS  # noqa: E402
from controlplane.client import Client, ClientConfig, load_config  # noqa: E402

NODE = "bench-node"
CLIENTS = 16


def event(name: str):
    return KINDS["Event"].new(metadata={"name": name, "namespace": "default"}, reason="Bench", message="m",
                              involved_object={"kind": "Node", "name": NODE}, type="Normal")


async def rate(config: ClientConfig, total: int, call) -> float:
    """Requests/s of `call(client, i, n)` from CLIENTS clients, total requests in all."""
    clients = [Client(config) for _ in range(CLIENTS)]
    per_client = total // CLIENTS

    async def run(i: int, client: Client):
        for n in range(per_client):
            await call(client, i, n)
    await asyncio.gather(*(c.version() for c in clients))     # TLS handshakes are not counted
    start = time.perf_counter()
    await asyncio.gather(*(run(i, c) for i, c in enumerate(clients)))
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in clients))
    return per_client * CLIENTS / elapsed


async def populate(admin: ClientConfig, pods: int) -> None:
    """`pods` pods bound to the node, the last of which names the Secret the Gets read."""
    async with Client(admin) as client:
        await client.resource("Secret").create(KINDS["Secret"].new(
            metadata={"name": "wanted", "namespace": "default"}, string_data={"k": "v"}))
        for n in range(pods):
            volumes = [{"name": "s", "secret": {"secret_name": "wanted"}}] if n == pods - 1 else []
            await client.resource("Pod").create(KINDS["Pod"].new(
                metadata={"name": f"p{n}", "namespace": "default"},
                spec={"node_name": NODE, "volumes": volumes,
                      "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "1"]}]}))


async def bench(args) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="authz-bench-") as tmp:
        with server_for("sqlite", pathlib.Path(tmp)) as server:
            admin = load_config(server.config_path)
            bootstrap = ClientConfig(server=admin.server, ca=admin.ca,
                                     token=(server.data_dir / "node-token").read_text().strip().split("::node:")[1])
            node = await request_credential(bootstrap, NODE)
            await populate(admin, args.pods)
            rows = []
            for what, call in (
                    ("create Event", lambda c, i, n, who: c.resource("Event").create(event(f"{who}-{i}-{n}"))),
                    (f"get Secret ({args.pods} pods on the node)",
                     lambda c, i, n, who: c.resource("Secret").get("wanted", namespace="default"))):
                best = {"admin": 0.0, "node": 0.0}
                for round_ in range(args.rounds):     # alternated, so a busy moment hits both alike
                    for who, config in (("admin", admin), ("node", node)):
                        measured = await rate(config, args.requests,
                                              lambda c, i, n: call(c, i, n, f"{who}{round_}"))
                        best[who] = max(best[who], measured)
                rows.append({"request": what, "admin req/s": best["admin"], "node req/s": best["node"],
                             "node / admin": f"{best['node'] / best['admin']:.2f}"})
            return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per identity; the best counts")
    print_table(asyncio.run(bench(parser.parse_args())))


if __name__ == "__main__":
    main()
