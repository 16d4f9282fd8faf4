"""Authentication and authorization: tokens over TLS, nothing anonymous but health."""
import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from agent.kubelet.credential import request_credential
from controlplane.client import Client, ClientConfig, errors
from controlplane.client.join import JoinError, join_config, make_join_token, parse_join_token
from tests.support.control_plane import node_config
from tests.support.objects import configmap, pod


def client_with_token(apiserver, token: str) -> Client:
    return Client(ClientConfig(server=apiserver.address, ca=apiserver.credentials.ca_pem.decode(), token=token))


async def test_wrong_token_is_unauthenticated(apiserver):
    async with client_with_token(apiserver, "not-a-token") as c:
        with pytest.raises(errors.Unauthenticated):
            await c.resource("Pod").list()
        with pytest.raises(errors.Unauthenticated):
            async for _ in c.resource("Pod").watch():
                pass


async def test_health_needs_no_token(apiserver):
    creds = grpc.ssl_channel_credentials(root_certificates=apiserver.credentials.ca_pem)
    async with grpc.aio.secure_channel(apiserver.address, creds) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_version_reports_identity(client):
    info = await client.version()
    assert info.user == "admin" and "system:masters" in info.groups and info.datastore == "sqlite"


async def test_join_token_may_only_ask_for_a_node_credential(apiserver, client):
    await client.resource("ConfigMap").create(configmap("c"))
    _, secret = parse_join_token(apiserver.credentials.join_token)
    async with client_with_token(apiserver, secret) as bootstrap:
        with pytest.raises(errors.Forbidden, match="may only ask for a node credential"):
            await bootstrap.resource("ConfigMap").list()
        with pytest.raises(errors.Forbidden, match="may only ask for a node credential"):
            await bootstrap.resource("Node").create(bootstrap.resource("Node").kind.new(metadata={"name": "n1"}))
        with pytest.raises(errors.Forbidden):
            await bootstrap.resource("Pod").update(pod("x"))
    assert not (await client.resource("Node").list()).items


async def test_agent_joins_with_address_and_token_only(apiserver):
    token = (apiserver.options.data_dir / "node-token").read_text().strip()
    config = await asyncio.to_thread(join_config, apiserver.address, token)
    assert config.ca.strip() == apiserver.credentials.ca_pem.decode().strip()
    async with Client(config) as bootstrap:
        assert (await bootstrap.version()).groups == ["system:bootstrappers"]
    async with Client(await request_credential(config, "n1")) as node:
        info = await node.version()
        assert info.user == "system:node:n1" and info.groups == ["system:nodes"]


async def test_join_refuses_a_server_without_the_pinned_ca(apiserver):
    _, secret = parse_join_token(apiserver.credentials.join_token)
    forged = make_join_token("0" * 64, secret)
    with pytest.raises(JoinError, match="did not present the CA"):
        await asyncio.to_thread(join_config, apiserver.address, forged)


async def test_each_call_runs_as_its_own_caller(apiserver, client):
    """The interceptor keeps the handler it wrapped for a (method, user) (auth.AuthInterceptor): callers
    interleaved on one method still each run as themselves, and a credential revoked after its handler
    was kept is refused on its very next call, on the same connection."""
    async with Client(await node_config(apiserver, "n1")) as node, \
            client_with_token(apiserver, "not-a-token") as stranger:
        for _ in range(2):
            assert (await client.version()).user == "admin"
            assert (await node.version()).user == "system:node:n1"
            with pytest.raises(errors.Unauthenticated):
                await stranger.version()
            await client.resource("ConfigMap").list()
            with pytest.raises(errors.Forbidden):
                await node.resource("ConfigMap").list()
        for request in (await client.resource("NodeCredentialRequest").list()).items:
            await client.resource("NodeCredentialRequest").delete(request.metadata.name)
        await client.resource("ConfigMap").list()   # the cache has seen the deletes once this returns
        with pytest.raises(errors.Unauthenticated):
            await node.version()
        assert (await client.version()).user == "admin"
