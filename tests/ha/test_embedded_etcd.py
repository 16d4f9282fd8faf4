"""Three servers make a three-member embedded etcd (`--cluster-init`, then `--server`), and lose one."""
import asyncio
import contextlib
import os
import signal

from controlplane.client.errors import ApiError
from tests.support.control_plane import ServerProcess, admin_client, running_apiserver
from tests.support.objects import configmap
from tests.support.polling import eventually
from tests.support.ports import free_port


def _ports() -> dict:
    """Each server's own etcd ports, all on loopback."""
    return {"etcd_client_port": free_port(), "etcd_peer_port": free_port(), "advertise_address": "127.0.0.1"}


@contextlib.asynccontextmanager
async def three_servers(tmp_path):
    async with running_apiserver(tmp_path / "s1", cluster_init=True, **_ports()) as first:
        join = {"join": first.address, "server_token": first.server_token}
        async with running_apiserver(tmp_path / "s2", **join, **_ports()) as second, \
                running_apiserver(tmp_path / "s3", **join, **_ports()) as third:
            yield first, second, third


async def _create_until_it_works(client, name, seconds=30.0):
    """Create, retrying while the cluster settles (an etcd election after losing a member)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            return await client.resource("ConfigMap").create(configmap(name))
        except ApiError as e:
            if e.code.name == "ALREADY_EXISTS":
                return await client.resource("ConfigMap").get(name)
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def test_three_servers_form_a_three_member_etcd_that_survives_losing_one(tmp_path):
    async with three_servers(tmp_path) as (first, second, third):
        members = await first._raw_store.members()
        assert sorted(m.name for m in members) == sorted(s.etcd.name for s in (first, second, third))
        assert all(m.client_urls for m in members)
        for server in (first, second, third):
            assert (await server._raw_store.get("/bootstrap/server")) is not None
            assert oct((tmp_path / "s1" / "etcd").stat().st_mode & 0o777) == "0o700"
        async with admin_client(first) as via_first, admin_client(third) as via_third:
            await via_first.resource("ConfigMap").create(configmap("before"))
            assert (await via_third.resource("ConfigMap").get("before")).metadata.name == "before"
            # A member that crashes is restarted by its server.
            crashed = third.etcd.pid
            os.kill(crashed, signal.SIGKILL)

            async def restarted():
                return third.etcd.pid != crashed and await third.etcd.healthy()
            await eventually(restarted, what="the crashed member restarted")
            assert third.etcd.restarts == 1
            await _create_until_it_works(via_third, "after-crash")
            # The third member is down (as with its host): two of three still make a quorum, writes go on.
            await third.etcd.stop()
            for i in range(5):
                await _create_until_it_works(via_first, f"during-{i}")
            # Back, from its data, it catches up with what it missed.
            await third.etcd.start()
            names = {c.metadata.name for c in (await via_third.resource("ConfigMap").list()).items}
            assert {"before", "after-crash", *(f"during-{i}" for i in range(5))} <= names


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path) as f:
        return [int(p) for p in f.read().split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


async def test_cox_server_cluster_init_runs_its_etcd_and_takes_it_along_when_killed(tmp_path):
    ports = _ports()
    server = ServerProcess(tmp_path / "s1", extra_args=[
        "--cluster-init", "--etcd-client-port", str(ports["etcd_client_port"]),
        "--etcd-peer-port", str(ports["etcd_peer_port"]), "--advertise-address", "127.0.0.1", "--no-user-config",
        "--disable-scheduler", "--disable-controller-manager"])
    try:
        server.start(timeout=60)
        async with server.client() as client:
            assert (await client.version()).datastore == "etcd"
        etcd = [pid for pid in _children(server.proc.pid) if "etcd" in open(f"/proc/{pid}/cmdline").read()]
        assert len(etcd) == 1 and (tmp_path / "s1" / "etcd" / "member").is_dir()
        server.kill()

        async def gone():
            return not _alive(etcd[0])
        await eventually(gone, what="its etcd gone with the server")
    finally:
        server.stop()
