"""What authorization costs a request: the same calls as the admin, a node and an RBAC user, in one run.

    python bench/authz_bench.py [--requests 4000] [--pods 1000] [--bindings 300] [--rounds 3]

One `cox server` process (API server only, SQLite). 16 clients make each
request as fast as it is acknowledged, as three users in turn:
- the admin (system:masters: the fixed rules allow it before RBAC is asked,
  as the old fixed table did);
- node bench-node (system:node:bench-node: the node authorizer decides);
- user bench-user, granted `edit` in the namespace by one RoleBinding among
  `--bindings` other Roles and RoleBindings (RBAC decides from the watch cache).
Requests: creating Events (all three may), and Gets of a Secret one of
`--pods` pods bound to the node names (the node authorizer's most expensive
case). Rounds alternate between the users, so a busy moment hits all alike;
the best requests/s and its round's p99 latency count. The last columns are
each user's rate as a share of the admin's.
"""
import argparse
import asyncio
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from agent.kubelet.credential import request_credential  # noqa: E402
from bench.api_bench import server_for  # noqa: E402
from bench.table import print_table  # noqa: E402
from controlplane.api.kinds import KINDS  # noqa: E402
from controlplane.apiserver import signedtokens  # noqa: E402
from controlplane.client import Client, ClientConfig, load_config  # noqa: E402

NODE = "bench-node"
USER = "bench-user"
CLIENTS = 16


def event(name: str):
    return KINDS["Event"].new(metadata={"name": name, "namespace": "default"}, reason="Bench", message="m",
                              involved_object={"kind": "Node", "name": NODE}, type="Normal")


async def rate(config: ClientConfig, total: int, call) -> tuple[float, float]:
    """(requests/s, p99 ms) of `call(client, i, n)` from CLIENTS clients, `total` requests in all."""
    clients = [Client(config) for _ in range(CLIENTS)]
    per_client = total // CLIENTS
    latencies: list[float] = []

    async def run(i: int, client: Client):
        for n in range(per_client):
            began = time.perf_counter()
            await call(client, i, n)
            latencies.append(time.perf_counter() - began)
    await asyncio.gather(*(c.version() for c in clients))     # TLS handshakes are not counted
    start = time.perf_counter()
    await asyncio.gather(*(run(i, c) for i, c in enumerate(clients)))
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(c.close() for c in clients))
    return per_client * CLIENTS / elapsed, statistics.quantiles(latencies, n=100)[98] * 1000


async def populate(admin: ClientConfig, *, pods: int, bindings: int) -> None:
    """The node's pods (the last names the Secret), and RBAC objects for others plus bench-user's binding."""
    async with Client(admin) as client:
        await client.resource("Secret").create(KINDS["Secret"].new(
            metadata={"name": "wanted", "namespace": "default"}, string_data={"k": "v"}))
        for n in range(pods):
            volumes = [{"name": "s", "secret": {"secret_name": "wanted"}}] if n == pods - 1 else []
            await client.resource("Pod").create(KINDS["Pod"].new(
                metadata={"name": f"p{n}", "namespace": "default"},
                spec={"node_name": NODE, "volumes": volumes,
                      "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "1"]}]}))
        for n in range(bindings):
            await client.resource("Role").create(KINDS["Role"].new(
                metadata={"name": f"r{n}", "namespace": "default"},
                rules=[{"api_groups": [""], "resources": ["configmaps"], "verbs": ["get"],
                        "resource_names": [f"c{n}"]}]))
            await client.resource("RoleBinding").create(KINDS["RoleBinding"].new(
                metadata={"name": f"b{n}", "namespace": "default"},
                role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": f"r{n}"},
                subjects=[{"kind": "User", "api_group": "rbac.authorization.k8s.io", "name": f"someone-{n}"}]))
        await client.resource("RoleBinding").create(KINDS["RoleBinding"].new(
            metadata={"name": "bench-user-edit", "namespace": "default"},
            role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            subjects=[{"kind": "User", "api_group": "rbac.authorization.k8s.io", "name": USER}]))


async def bench(args) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="authz-bench-") as tmp:
        with server_for("sqlite", pathlib.Path(tmp)) as server:
            admin = load_config(server.config_path)
            join_secret = (server.data_dir / "node-token").read_text().strip().split("::node:")[1]
            node = await request_credential(ClientConfig(server=admin.server, ca=admin.ca, token=join_secret), NODE)
            key = (server.data_dir / "tls" / signedtokens.KEY_FILE).read_bytes()
            user = ClientConfig(server=admin.server, ca=admin.ca, token=signedtokens.user_token(key, USER, []))
            await populate(admin, pods=args.pods, bindings=args.bindings)
            identities = {"admin": admin, "node": node, "RBAC user": user}
            rows = []
            for what, call in (
                    ("create Event", lambda c, i, n, who: c.resource("Event").create(event(f"{who}-{i}-{n}"))),
                    ("get Secret", lambda c, i, n, who: c.resource("Secret").get("wanted", namespace="default"))):
                best = {who: (0.0, 0.0) for who in identities}
                for round_ in range(args.rounds):
                    for who, config in identities.items():
                        tag = f"{who.replace(' ', '-').lower()}{round_}"
                        measured = await rate(config, args.requests, lambda c, i, n: call(c, i, n, tag))
                        best[who] = max(best[who], measured)
                row = {"request": what}
                for who in identities:
                    row[f"{who} req/s"], row[f"{who} p99 ms"] = best[who]
                for who in ("node", "RBAC user"):
                    row[f"{who} / admin"] = f"{best[who][0] / best['admin'][0]:.2f}"
                rows.append(row)
            return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--bindings", type=int, default=300, help="other Roles and RoleBindings present")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per user; the best counts")
    args = parser.parse_args()
    rows = asyncio.run(bench(args))
    print_table(rows, note=f"{args.pods} pods bound to the node, {args.bindings} other Roles and RoleBindings")


if __name__ == "__main__":
    main()
