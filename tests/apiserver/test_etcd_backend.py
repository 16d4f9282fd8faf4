"""The API server over a real etcd: two servers share it, as in an HA control plane."""
import asyncio

import pytest

from tests.support.control_plane import admin_client, running_apiserver
from tests.support.etcd import EtcdServer
from tests.support.objects import configmap


@pytest.fixture
def etcd(tmp_path):
    server = EtcdServer().start()
    yield server
    server.stop()


async def test_two_api_servers_over_one_etcd(tmp_path, etcd):
    # Servers over one etcd share their encryption configuration as they share the CA (README).
    shared_key = tmp_path / "a" / "tls" / "encryption.yaml"
    async with running_apiserver(tmp_path / "a", datastore=etcd.url) as a, \
            running_apiserver(tmp_path / "b", datastore=etcd.url, encryption_config=shared_key) as b:
        async with admin_client(a) as via_a, admin_client(b) as via_b:
            assert (await via_a.version()).datastore == "etcd"
            since = (await via_b.resource("ConfigMap").list()).metadata.resource_version
            seen = []

            async def watch_b():
                async for event in via_b.resource("ConfigMap").watch(resource_version=since):
                    seen.append((event.type, event.object.metadata.name))
                    if len(seen) == 2:
                        return

            watcher = asyncio.create_task(watch_b())
            await via_a.resource("ConfigMap").create(configmap("shared"))
            await via_a.resource("ConfigMap").delete("shared")
            await asyncio.wait_for(watcher, 10)
            assert seen == [("ADDED", "shared"), ("DELETED", "shared")]
            # A write through A is in B's very next consistent list, for a kind B's cache had no event of.
            await via_a.resource("Secret").create(via_a.resource("Secret").kind.new(metadata={"name": "s"}))
            names = [s.metadata.name for s in (await via_b.resource("Secret").list()).items]
            assert names == ["s"]
