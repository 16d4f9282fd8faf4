"""Clients of several servers move on when theirs is gone; default/kubernetes lists every live server."""
import asyncio

from agent.kubelet.credential import node_config
from controlplane.client import Client, Informer, load_config
from controlplane.client.errors import ApiError
from controlplane.client.join import join_config
from tests.support.control_plane import running_apiserver
from tests.support.objects import configmap
from tests.support.polling import eventually
from tests.support.ports import free_port


async def test_a_client_of_two_servers_goes_on_through_the_other_when_one_stops(tmp_path, etcd):
    options = {"datastore": etcd.url, "endpoint_reconcile_seconds": 0.5}
    async with running_apiserver(tmp_path / "b", advertise_address="127.0.0.2", **options) as b, \
            running_apiserver(tmp_path / "a", join=b.address, server_token=b.server_token,
                              advertise_address="127.0.0.1", **options) as a:
        path = tmp_path / "config"   # the client config's list form
        ca = b.credentials.ca_pem.decode().replace("\n", "\n  ")
        path.write_text(f"server: [{a.address}, {b.address}]\nca: |\n  {ca}\ntoken: {b.credentials.admin_token}\n")
        config = load_config(path)
        assert config.server == f"{a.address},{b.address}"
        async with Client(config) as client:
            async def endpoints():
                found = await client.resource("Endpoints").get("kubernetes")
                return sorted(address.ip for subset in found.subsets for address in subset.addresses)

            async def both_listed():
                return await endpoints() == ["127.0.0.1", "127.0.0.2"]
            await eventually(both_listed, what="both servers in default/kubernetes")
            informer = Informer(client.resource("ConfigMap"))
            informer.start()
            try:
                await client.resource("ConfigMap").create(configmap("one"))

                async def informed(name):
                    return informer.get(name, "default") is not None
                await eventually(lambda: informed("one"), what="the informer's first object")
                await a.stop(grace=0)   # the server this client (first in its list) was using
                # A read right after the stop reaches the live server:
                assert (await client.resource("ConfigMap").get("one")).metadata.name == "one"

                async def create_two():
                    try:
                        await client.resource("ConfigMap").create(configmap("two"))
                    except ApiError as e:
                        return e.code.name == "ALREADY_EXISTS"
                    return True
                await eventually(create_two, what="a write through the other server", timeout=30)
                await eventually(lambda: informed("two"), what="the informer, resumed on the other server",
                                 timeout=30)

                async def only_b_listed():
                    return await endpoints() == ["127.0.0.2"]
                await eventually(only_b_listed, what="only the live server in default/kubernetes")
            finally:
                await informer.stop()


async def test_an_agent_given_several_servers_joins_through_one_that_answers(tmp_path, apiserver):
    servers = f"127.0.0.1:{free_port()},{apiserver.address}"   # the first one is down
    config = await node_config(tmp_path, "n1", lambda: asyncio.to_thread(
        join_config, servers, apiserver.credentials.join_token), server=servers)
    assert config.server == servers and config.token
    async with Client(config) as client:
        assert (await client.version()).user == "system:node:n1"
    assert load_config(tmp_path / "kubelet.yaml").server == servers
