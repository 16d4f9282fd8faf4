"""What encrypting Secrets at rest costs: Secret creates/s and Gets/s with encryption off and on.

    python bench/encryption_bench.py [--requests 3000] [--bytes 1024] [--rounds 2]

One `cox server` process (API server only) per backend and setting, over
SQLite and over a real etcd: "off" is an EncryptionConfiguration with only
`identity` (plain values, as before encryption), "on" the server's default
(AES-GCM with a 256-bit key, random nonce per write, the store key as
associated data). 16 clients create `--requests` Secrets of `--bytes` bytes,
then Get them back; the best of `--rounds` rounds counts. Gets are served
from the store (not the watch cache), so each decrypts one value.
"""
import argparse
import asyncio
import os
import pathlib
import sys
import tempfile
import timeit

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from bench.api_bench import server_for  # noqa: E402
from bench.authz_bench import CLIENTS, rate  # noqa: E402
from bench.table import print_table  # noqa: E402
from controlplane.api.kinds import KINDS  # noqa: E402
from controlplane.apiserver.encryption.config import parse, render_default  # noqa: E402
from controlplane.apiserver.encryption.transformer import Transformer  # noqa: E402
from controlplane.client import load_config  # noqa: E402

IDENTITY_ONLY = ("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
                 "resources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n")


async def measure(backend: str, encrypted: bool, args) -> tuple[float, float]:
    """(best creates/s, best gets/s) of one server."""
    with tempfile.TemporaryDirectory(prefix=f"encryption-bench-{backend}-") as tmp:
        extra = []
        if not encrypted:
            config = pathlib.Path(tmp) / "identity.yaml"
            config.write_text(IDENTITY_ONLY)
            extra = ["--encryption-provider-config", str(config)]
        with server_for(backend, pathlib.Path(tmp), extra_args=extra) as server:
            admin = load_config(server.config_path)
            payload = os.urandom(args.bytes)
            per_client = args.requests // CLIENTS
            creates = gets = 0.0
            for round_ in range(args.rounds):
                def create(c, i, n, r=round_):
                    return c.resource("Secret").create(KINDS["Secret"].new(
                        metadata={"name": f"s{r}-{i}-{n}", "namespace": "default"}, data={"k": payload}))

                def get(c, i, n, r=round_):
                    return c.resource("Secret").get(f"s{r}-{i}-{n % per_client}", namespace="default")
                creates = max(creates, (await rate(admin, args.requests, create))[0])
                gets = max(gets, (await rate(admin, args.requests, get))[0])
            return creates, gets


def value_cost_us(size: int) -> tuple[float, float]:
    """Microseconds to encrypt and to decrypt one value in this process: the floor of the cost per request."""
    transformer = Transformer(parse(render_default(os.urandom(32)), known_resources=["secrets"])
                              .providers_for("secrets"))
    key, value = "/registry/secrets/default/bench", os.urandom(size)
    sealed = transformer.encrypt(key, value)
    runs = 5000
    return (timeit.timeit(lambda: transformer.encrypt(key, value), number=runs) / runs * 1e6,
            timeit.timeit(lambda: transformer.decrypt(key, sealed), number=runs) / runs * 1e6)


async def bench(args) -> list[dict]:
    rows = []
    for backend in ("sqlite", "etcd"):
        off = await measure(backend, False, args)
        on = await measure(backend, True, args)
        rows.append({"backend": backend,
                     "create/s off": off[0], "create/s on": on[0], "on / off": f"{on[0] / off[0]:.2f}",
                     "get/s off": off[1], "get/s on": on[1], "on / off ": f"{on[1] / off[1]:.2f}"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="creates, then as many Gets, per round")
    parser.add_argument("--bytes", type=int, default=1024, help="size of each Secret's value")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    encrypt_us, decrypt_us = value_cost_us(args.bytes)
    print_table(asyncio.run(bench(args)),
                note=f"{CLIENTS} clients, {args.requests} requests a round, {args.bytes}-byte Secrets, "
                     f"best of {args.rounds} rounds; off = identity only, on = aesgcm (the default).\n"
                     f"One value alone: encrypt {encrypt_us:.0f} us, decrypt {decrypt_us:.0f} us.")


if __name__ == "__main__":
    main()
