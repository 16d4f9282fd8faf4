"""A second server joins the first with the server token (k3s' --server/--token) over one external etcd."""
import stat
import subprocess

import pytest

from controlplane.apiserver import clusterbootstrap
from controlplane.client import Client, ClientConfig
from controlplane.client.join import SERVER, make_join_token, parse_join_token
from tests.support.control_plane import ServerProcess, admin_client, cox_command, cox_env, running_apiserver
from tests.support.objects import configmap
from tests.support.ports import free_port


def _files(data_dir):
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file()) \
        if data_dir.exists() else []


async def test_a_joining_server_gets_the_clusters_ca_keys_and_tokens(tmp_path, etcd):
    async with running_apiserver(tmp_path / "a", datastore=etcd.url) as a:
        assert a.server_token != a.credentials.join_token
        assert parse_join_token(a.server_token, role=SERVER)[1] not in a.credentials.join_token
        async with running_apiserver(tmp_path / "b", datastore=etcd.url, join=a.address,
                                     server_token=a.server_token) as b:
            assert b.credentials.ca_pem == a.credentials.ca_pem
            assert b.credentials.join_token == a.credentials.join_token
            assert b.server_token == a.server_token
            for name in clusterbootstrap.FILES + ("server-token",):
                path = tmp_path / "b" / name
                assert path.read_bytes() == (tmp_path / "a" / name).read_bytes(), name
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
            # The admin's token, the encryption key and the signing key are the cluster's, not b's own.
            async with admin_client(a) as via_a, Client(ClientConfig(
                    server=b.address, ca=a.credentials.ca_pem.decode(), token=a.credentials.admin_token)) as via_b:
                secret = via_a.resource("Secret").kind.new(metadata={"name": "s"}, string_data={"k": "v"})
                await via_a.resource("Secret").create(secret)
                assert (await via_b.resource("Secret").get("s")).data["k"] == b"v"
                await via_b.resource("ConfigMap").create(configmap("from-b"))
                assert (await via_a.resource("ConfigMap").get("from-b")).metadata.name == "from-b"


async def test_a_wrong_server_token_is_refused_and_nothing_is_written(tmp_path, etcd):
    async with running_apiserver(tmp_path / "a", datastore=etcd.url) as a:
        ca_hash, _ = parse_join_token(a.server_token, role=SERVER)
        wrong_secret = make_join_token(ca_hash, "0" * 48, role=SERVER)
        with pytest.raises(clusterbootstrap.BootstrapError, match="refused to bootstrap this server"):
            async with running_apiserver(tmp_path / "b", datastore=etcd.url, join=a.address,
                                         server_token=wrong_secret):
                pass
        with pytest.raises(clusterbootstrap.BootstrapError, match="did not present the CA the token pins"):
            async with running_apiserver(tmp_path / "c", datastore=etcd.url, join=a.address,
                                         server_token=make_join_token("ab" * 32, "x", role=SERVER)):
                pass
        # The node join token is no server token.
        with pytest.raises(clusterbootstrap.BootstrapError, match="not a server token"):
            async with running_apiserver(tmp_path / "d", datastore=etcd.url, join=a.address,
                                         server_token=a.credentials.join_token):
                pass
        assert _files(tmp_path / "b") == _files(tmp_path / "c") == _files(tmp_path / "d") == []


def test_cox_server_with_a_wrong_token_exits_non_zero_and_writes_nothing(tmp_path, etcd):
    first = ServerProcess(tmp_path / "a", extra_args=["--datastore", etcd.url, "--no-user-config",
                                                      "--disable-scheduler", "--disable-controller-manager"])
    try:
        first.start()
        token = (tmp_path / "a" / "server-token").read_text().strip()
        assert stat.S_IMODE((tmp_path / "a" / "server-token").stat().st_mode) == 0o600
        ca_hash, _ = parse_join_token(token, role=SERVER)
        joined = subprocess.run(
            cox_command("server", "--data-dir", str(tmp_path / "b"), "--listen", f"127.0.0.1:{free_port()}",
                        "--datastore", etcd.url, "--server", f"https://127.0.0.1:{first.port}",
                        "--token", make_join_token(ca_hash, "wrong", role=SERVER), "--no-user-config"),
            env=cox_env(tmp_path), capture_output=True, text=True, timeout=60)
        assert joined.returncode != 0
        assert "--token" in joined.stderr and "not this cluster's server token" in joined.stderr, joined.stderr
        assert "Traceback" not in joined.stderr
        assert _files(tmp_path / "b") == []
    finally:
        first.stop()


async def test_a_server_on_its_own_sqlite_file_cannot_be_joined(tmp_path, etcd):
    async with running_apiserver(tmp_path / "a") as a:
        with pytest.raises(clusterbootstrap.BootstrapError, match="SQLite file of its own"):
            async with running_apiserver(tmp_path / "b", datastore=etcd.url, join=a.address,
                                         server_token=a.server_token):
                pass
        assert _files(tmp_path / "b") == []
        assert (await a.store.get(clusterbootstrap.BOOTSTRAP_KEY)) is None


async def test_a_malformed_server_token_is_refused_by_name(tmp_path):
    with pytest.raises(clusterbootstrap.BootstrapError, match="--token: not a server token"):
        async with running_apiserver(tmp_path / "a", server_token="K10nonsense"):
            pass
