"""Changing the configuration: rotation with `cox secrets rotate`, migration to and from plain text, upgrade in place.

The servers are real `cox server` processes restarted over one SQLite file
(the end-to-end tests), or API servers in the test's loop where only the
store's contents matter.
"""
import os
import subprocess

import grpc
import pytest

from tests.encryption.support import secret, sqlite_rows, write_config
from tests.support.control_plane import ServerProcess, admin_client, cox_command, cox_env, running_apiserver

KEY1, KEY2 = os.urandom(32), os.urandom(32)
MARK = "rotate-me-please"


def rotate(server: ServerProcess) -> str:
    done = subprocess.run(cox_command("--config", str(server.config_path), "secrets", "rotate"),
                          env=cox_env(server.home), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def prefixes(data) -> dict[str, bytes]:
    """Each Secret's current stored prefix (provider and key), or b"plain"."""
    latest = dict(sqlite_rows(data / "state.db"))
    return {k: v[:v.index(b":", len(b"k8s:enc:aesgcm:v1:")) + 1] if v.startswith(b"k8s:enc:") else b"plain"
            for k, v in latest.items()}


async def values(server: ServerProcess) -> dict[str, bytes]:
    """The test's Secrets (in namespace default, not the service accounts' tokens the controllers make)."""
    async with server.client() as client:
        return {s.metadata.name: s.data["password"] for s in (await client.resource("Secret").list()).items
                if "password" in s.data}


async def test_rotation_to_a_new_key_then_dropping_the_old_one(tmp_path):
    data, config = tmp_path / "data", tmp_path / "encryption.yaml"
    server = ServerProcess(data, extra_args=["--encryption-provider-config", str(config)])
    write_config(config, {"aesgcm": [("key1", KEY1)]})
    server.start()
    try:
        async with server.client() as client:
            for i in range(3):
                await client.resource("Secret").create(secret(f"s{i}", f"{MARK}-{i}"))
        expected = await values(server)
        assert set(prefixes(data).values()) == {b"k8s:enc:aesgcm:v1:key1:"}

        server.stop()   # 1. the new key goes first, the old one stays to read with; restart
        write_config(config, {"aesgcm": [("key2", KEY2), ("key1", KEY1)]})
        server.start()
        assert await values(server) == expected
        assert rotate(server).startswith("secrets rotated: ")   # 2. rewrite all (service account tokens too)
        assert len(prefixes(data)) >= 3 and set(prefixes(data).values()) == {b"k8s:enc:aesgcm:v1:key2:"}
        assert rotate(server).startswith("secrets rotated: 0 rewritten, ")

        server.stop()   # 3. drop the old key
        write_config(config, {"aesgcm": [("key2", KEY2)]})
        server.start()
        assert await values(server) == expected
    finally:
        server.stop()


async def test_a_server_upgraded_in_place_reads_plain_secrets_and_encrypts_them_on_rotation(tmp_path):
    """The first server stands for a coxswain from before encryption: it stored Secrets as plain protobuf."""
    data, old_config = tmp_path / "data", write_config(tmp_path / "identity.yaml", {"identity": None})
    before = ServerProcess(data, extra_args=["--encryption-provider-config", str(old_config)]).start()
    try:
        async with before.client() as client:
            await client.resource("Secret").create(secret("old", MARK))
    finally:
        before.stop()
    assert prefixes(data)["/registry/secrets/default/old"] == b"plain"

    upgraded = ServerProcess(data).start()   # no flag: the server makes its own key beside the CA
    try:
        assert (data / "tls" / "encryption.yaml").exists()
        assert await values(upgraded) == {"old": MARK.encode()}
        assert rotate(upgraded).startswith("secrets rotated: ")
        assert set(prefixes(data).values()) == {b"k8s:enc:aesgcm:v1:key1:"}   # tokens of service accounts too
        assert await values(upgraded) == {"old": MARK.encode()}
    finally:
        upgraded.stop()


async def test_identity_first_writes_plain_text_and_still_reads_encrypted_values(tmp_path):
    data = tmp_path / "data"
    encrypted = write_config(tmp_path / "aes.yaml", {"aesgcm": [("key1", KEY1)]}, {"identity": None})
    plain = write_config(tmp_path / "plain.yaml", {"identity": None}, {"aesgcm": [("key1", KEY1)]})
    async with running_apiserver(data, encryption_config=encrypted) as server, admin_client(server) as client:
        await client.resource("Secret").create(secret("a", MARK))
    async with running_apiserver(data, encryption_config=plain) as server, admin_client(server) as client:
        assert (await client.resource("Secret").get("a")).data["password"] == MARK.encode()
        await client.resource("Secret").create(secret("b", MARK))
        stale = await client.resource("Secret").get("a")
        rewritten = await client.resource("Secret").update(stale)   # unchanged, but stored under a key: rewritten
        assert rewritten.metadata.resource_version != stale.metadata.resource_version
    assert prefixes(data) == {"/registry/secrets/default/a": b"plain", "/registry/secrets/default/b": b"plain"}
    async with running_apiserver(data, encryption_config=encrypted) as server, admin_client(server) as client:
        assert {s.metadata.name for s in (await client.resource("Secret").list()).items} == {"a", "b"}


async def test_a_value_under_a_key_the_server_lacks_is_an_internal_error_naming_the_key(tmp_path):
    data = tmp_path / "data"
    old = write_config(tmp_path / "old.yaml", {"aesgcm": [("key1", KEY1)]})
    new = write_config(tmp_path / "new.yaml", {"aesgcm": [("key2", KEY2)]})
    async with running_apiserver(data, encryption_config=old) as server, admin_client(server) as client:
        await client.resource("Secret").create(secret("a", MARK))
    async with running_apiserver(data, encryption_config=new) as server, admin_client(server) as client:
        with pytest.raises(Exception) as e:
            await client.resource("Secret").get("a")
        assert e.value.code == grpc.StatusCode.INTERNAL
        assert ('cannot decrypt the stored value: /registry/secrets/default/a: encrypted by aesgcm v1 with key '
                '"key1", which the encryption configuration does not have') in str(e.value)
        assert (await client.resource("Secret").list()).items == []   # left out of lists, the server keeps going
        await client.resource("Secret").create(secret("b", MARK))
        assert [s.metadata.name for s in (await client.resource("Secret").list()).items] == ["b"]


def test_a_bad_configuration_stops_the_server_at_start_naming_the_field(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
                      "- resources: [secrets]\n  providers:\n  - secretbox: {keys: [{name: k, secret: YQ==}]}\n")
    server = ServerProcess(tmp_path / "data", extra_args=["--encryption-provider-config", str(config)])
    with pytest.raises(RuntimeError) as e:
        server.start(timeout=20)
    assert (f"error: encryption provider config {config}: resources[0].providers[0]: unknown provider "
            f'"secretbox" (supported: aesgcm, chacha20poly1305, identity)') in str(e.value)
    assert "Traceback" not in str(e.value)
    server.stop()
