"""Secrets in the raw store are ciphertext, on SQLite and etcd, history included; the API sees plain objects."""
import os

import grpc
import pytest

from controlplane.apiserver.encryption import keyfile
from tests.encryption.support import etcd_rows, secret, sqlite_file_bytes, sqlite_rows, write_config
from tests.support.control_plane import admin_client, running_apiserver
from tests.support.etcd import EtcdServer

MARK = "correct-horse-battery-staple"


async def write_history(client) -> list[str]:
    """Create, update and delete Secrets (one a service account token) with distinctive values; the values."""
    secrets = client.resource("Secret")
    values = [f"{MARK}-{i}" for i in range(4)]
    await secrets.create(secret("db", values[0]))
    updated = await secrets.get("db")
    updated.data["password"] = values[1].encode()
    await secrets.update(updated)
    await secrets.create(secret("token", values[2], type="kubernetes.io/service-account-token",
                                annotations={"kubernetes.io/service-account.name": "default"}, string_data={"token": values[2]}))
    await secrets.create(secret("gone", values[3]))
    await secrets.delete("gone")
    return values


async def assert_plain_through_the_api(client, values) -> None:
    secrets = client.resource("Secret")
    assert (await secrets.get("db")).data["password"] == values[1].encode()
    assert (await secrets.get("token")).data["token"] == values[2].encode()
    listed = {s.metadata.name: s.data["password"] for s in (await secrets.list()).items}
    assert listed == {"db": values[1].encode(), "token": values[2].encode()}
    async for event in secrets.watch(resource_version="0"):
        assert event.object.data["password"] in (values[1].encode(), values[2].encode())
        break


async def test_sqlite_holds_no_secret_value_in_plain_text(tmp_path):
    data = tmp_path / "data"
    async with running_apiserver(data) as server, admin_client(server) as client:
        values = await write_history(client)
        await assert_plain_through_the_api(client, values)
        config = keyfile.default_path(data / "tls")
        assert os.stat(config).st_mode & 0o777 == 0o600
        rows = sqlite_rows(data / "state.db")
        assert len(rows) == 4   # two creates, one update, the deleted one's create: history included
        assert all(v.startswith(b"k8s:enc:aesgcm:v1:key1:") for _, v in rows)
        raw = sqlite_file_bytes(data / "state.db")
        assert not any(v.encode() in raw for v in values)
        assert MARK.encode() not in raw
        # Another kind is not encrypted: the raw read really sees values.
        await client.resource("ConfigMap").create(client.resource("ConfigMap").kind.new(
            metadata={"name": "plain"}, data={"k": MARK}))
        assert MARK.encode() in sqlite_file_bytes(data / "state.db")


async def test_etcd_holds_no_secret_value_in_plain_text_at_any_revision(tmp_path):
    etcd = EtcdServer().start()
    try:
        async with running_apiserver(tmp_path / "data", datastore=etcd.url) as server, \
                admin_client(server) as client:
            values = await write_history(client)
            await assert_plain_through_the_api(client, values)
            rows = await etcd_rows(etcd.url)
            assert len(rows) == 4
            assert all(v.startswith(b"k8s:enc:aesgcm:v1:key1:") for _, v in rows)
            assert not any(MARK.encode() in v for _, v in rows)
    finally:
        etcd.stop()


async def test_a_value_copied_to_another_key_does_not_decrypt(tmp_path):
    data = tmp_path / "data"
    async with running_apiserver(data) as server, admin_client(server) as client:
        await client.resource("Secret").create(secret("a", MARK))
        stored = await server.store.backend.get("/registry/secrets/default/a")
        await server.store.backend.put("/registry/secrets/default/b", stored.value, expect_mod_revision=0)
        with pytest.raises(Exception) as e:
            await client.resource("Secret").get("b")
        assert e.value.code == grpc.StatusCode.INTERNAL
        assert "/registry/secrets/default/b: fails authentication" in str(e.value)
        assert [s.metadata.name for s in (await client.resource("Secret").list()).items] == ["a"]


async def test_an_unchanged_update_writes_nothing_under_the_current_key(tmp_path):
    async with running_apiserver(tmp_path / "data") as server, admin_client(server) as client:
        created = await client.resource("Secret").create(secret("a", MARK))
        again = await client.resource("Secret").update(created)
        assert again.metadata.resource_version == created.metadata.resource_version
