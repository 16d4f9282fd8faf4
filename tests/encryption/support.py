"""What the encryption tests share: configuration files, and the raw store read past the API server."""
import base64
import pathlib
import sqlite3

from controlplane.api.kinds import KINDS
from controlplane.store import open_store

SECRETS = "/registry/secrets/"


def write_config(path: pathlib.Path, *providers: dict) -> pathlib.Path:
    """An EncryptionConfiguration for Secrets; providers as {"aesgcm": [("name", key bytes)]} or {"identity": None}."""
    import yaml
    listed = []
    for provider in providers:
        (kind, keys), = provider.items()
        listed.append({kind: {} if keys is None else
                       {"keys": [{"name": n, "secret": base64.b64encode(s).decode()} for n, s in keys]}})
    path.write_text(yaml.safe_dump({"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration",
                                    "resources": [{"resources": ["secrets"], "providers": listed}]}))
    return path


def secret(name: str, value: str, *, namespace: str = "default", annotations=None, **fields):
    return KINDS["Secret"].new(metadata={"name": name, "namespace": namespace, "labels": {"tag": value[:20]},
                                         "annotations": annotations or {}},
                               data={"password": value.encode()}, **fields)


def sqlite_rows(db: pathlib.Path) -> list[tuple[str, bytes]]:
    """Every value ever written under /registry/secrets/ that the log still holds, history included."""
    with sqlite3.connect(db) as conn:
        return [(k.decode(), bytes(v)) for k, v in
                conn.execute("SELECT key, value FROM log WHERE key >= ? AND key < ? AND value != x''",
                             (SECRETS.encode(), SECRETS[:-1].encode() + b"0"))]


def sqlite_file_bytes(db: pathlib.Path) -> bytes:
    """The database and its write-ahead log as bytes on disk, free pages included."""
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


async def etcd_rows(url: str) -> list[tuple[str, bytes]]:
    """Every Secret value at every revision etcd still has, read with the etcd client, not through the server."""
    store = await open_store(url)
    try:
        rows = []
        for revision in range(1, await store.current_revision() + 1):
            rows += [(kv.key, kv.value) for kv in (await store.range(SECRETS, revision=revision)).kvs
                     if kv.mod_revision == revision]
        return rows
    finally:
        await store.close()
