"""The store wrapper over a real SQLite store: what passes through, what is transformed, what is left out."""
import os

import pytest

from controlplane.apiserver.encryption.config import parse, render_default
from controlplane.apiserver.encryption.store import EncryptingStore
from controlplane.apiserver.errors import ApiError
from controlplane.store import Event
from controlplane.store.sqlite import SQLiteStore


@pytest.fixture
async def stores(tmp_path):
    backend = await SQLiteStore.open(str(tmp_path / "state.db"))
    config = parse(render_default(os.urandom(32)), known_resources=["secrets", "configmaps"])
    yield EncryptingStore(backend, config, resources=["secrets", "configmaps"]), backend
    await backend.close()


async def test_secrets_are_sealed_below_and_plain_above_other_keys_untouched(stores):
    store, backend = stores
    await store.put("/registry/secrets/ns/a", b"\x0asecret", expect_mod_revision=0)
    await store.put("/registry/configmaps/ns/a", b"\x0aplain", expect_mod_revision=0)
    assert (await backend.get("/registry/secrets/ns/a")).value.startswith(b"k8s:enc:aesgcm:v1:key1:")
    assert (await backend.get("/registry/configmaps/ns/a")).value == b"\x0aplain"
    got = await store.get("/registry/secrets/ns/a")
    assert got.value == b"\x0asecret" and not got.stale
    conflict = await store.put("/registry/secrets/ns/a", b"\x0ax", expect_mod_revision=0)
    assert not conflict.succeeded and conflict.current.value == b"\x0asecret"
    await backend.put("/registry/secrets/ns/legacy", b"\x0aold", expect_mod_revision=0)
    assert (await store.get("/registry/secrets/ns/legacy")).stale


async def test_unreadable_values_fail_a_get_and_are_left_out_of_pages_and_watches(stores):
    store, backend = stores
    start = await store.current_revision() + 1
    watch = await store.watch("/registry/secrets/", start_revision=start)
    for name in ("a", "b"):   # two values under a key this configuration does not have
        await backend.put(f"/registry/secrets/ns/{name}", b"k8s:enc:aesgcm:v1:lost:" + os.urandom(40),
                          expect_mod_revision=0)
    await store.put("/registry/secrets/ns/c", b"\x0ac", expect_mod_revision=0)
    with pytest.raises(ApiError, match='ns/a: encrypted by aesgcm v1 with key "lost"'):
        await store.get("/registry/secrets/ns/a")
    page = await store.range("/registry/secrets/", limit=1)
    assert [kv.key for kv in page.kvs] == ["/registry/secrets/ns/c"]
    async for event in watch:
        assert event.type == Event.PUT and event.kv.key == "/registry/secrets/ns/c"
        break
    await watch.close()
