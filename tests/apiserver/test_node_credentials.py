"""Node credentials on a real API server: bootstrap, renewal, revocation, a name held by a live node."""
import asyncio
import dataclasses
import time

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from agent.kubelet.credential import KUBELET_CONFIG, Renewer, node_config as agent_node_config, request_credential
from controlplane.api.kinds import KINDS
from controlplane.api.wellknown import NODE_LEASE_NAMESPACE
from controlplane.apiserver import auth, bootstrap
from controlplane.apiserver.registry import decode
from controlplane.client import Client, load_config
from controlplane.client import errors
from controlplane.client.join import join_config
from tests.support.control_plane import admin_client, node_config, running_apiserver
from tests.support.polling import eventually

REQUESTS = KINDS["NodeCredentialRequest"]


async def join(apiserver):
    return await asyncio.to_thread(join_config, apiserver.address, apiserver.credentials.join_token)


async def who(config) -> str:
    async with Client(config) as c:
        return (await c.version()).user


async def refused(config) -> bool:
    async with Client(config) as c:
        try:
            await c.version()
        except errors.Unauthenticated:
            return True
    return False


def until(predicate):
    """An async probe for `eventually` from a plain predicate."""
    async def probe():
        return predicate() or None
    return probe


async def fresh_lease(client, node: str, *, renewed: float) -> None:
    lease = KINDS["Lease"].new(metadata={"name": node, "namespace": NODE_LEASE_NAMESPACE},
                               spec={"holder_identity": node, "lease_duration_seconds": 40})
    lease.spec.renew_time.CopyFrom(Timestamp(seconds=int(renewed)))
    leases = client.resource("Lease")
    try:
        current = await leases.get(node, namespace=NODE_LEASE_NAMESPACE)
        current.spec.renew_time.CopyFrom(lease.spec.renew_time)
        await leases.update(current)
    except errors.NotFound:
        await leases.create(lease)


async def test_bootstrap_gives_the_node_its_own_identity_and_the_store_no_token(apiserver, client):
    config = await node_config(apiserver, "n1")
    assert await who(config) == "system:node:n1"
    assert config.expires > time.time() + 3600
    (request,) = (await client.resource("NodeCredentialRequest").list()).items
    assert request.spec.node_name == "n1" and request.spec.username == "system:bootstrap:join-token"
    assert request.spec.groups == ["system:bootstrappers"]
    assert [(c.type, c.reason) for c in request.status.conditions] == [("Approved", "AutoApprovedBootstrap")]
    assert request.status.token == "", "the token is shown once, in the create response"
    stored = decode(REQUESTS, await apiserver.store.get(REQUESTS.key("", request.metadata.name)))
    assert stored.status.token == "" and len(stored.status.token_hash) == 64
    assert config.token.split(":")[1] == request.metadata.name


async def test_a_requester_cannot_write_its_own_approval(apiserver, client):
    forged = REQUESTS.new(metadata={"generate_name": "n1-"}, spec={"node_name": "n1", "username": "admin"},
                          status={"token_hash": "0" * 64, "conditions": [{"type": "Approved", "status": "True",
                                                                            "reason": "Forged"}]})
    async with Client(await join(apiserver)) as bootstrapper:
        issued = await bootstrapper.resource("NodeCredentialRequest").create(forged)
    assert issued.spec.username == "system:bootstrap:join-token"
    assert [c.reason for c in issued.status.conditions] == ["AutoApprovedBootstrap"]
    assert issued.status.token_hash != "0" * 64


async def test_renewal_retires_the_old_token_and_deletion_revokes(apiserver, client):
    first = await node_config(apiserver, "n1")
    renewed = await request_credential(first, "n1")
    assert await who(renewed) == "system:node:n1"
    assert await refused(first), "a renewed credential's predecessor stops working at once"
    with pytest.raises(errors.Forbidden, match="may only renew its own"):
        await request_credential(renewed, "n2")
    for request in (await client.resource("NodeCredentialRequest").list()).items:
        await client.resource("NodeCredentialRequest").delete(request.metadata.name)
    assert await refused(renewed), "deleting a node's requests revokes its credential"


async def test_a_name_held_by_a_live_node_is_refused_to_the_join_token(apiserver, client):
    held = await node_config(apiserver, "n1")
    await fresh_lease(client, "n1", renewed=time.time())
    before = len((await client.resource("NodeCredentialRequest").list()).items)
    with pytest.raises(errors.Forbidden, match='node name "n1" is held by a live node'):
        await request_credential(await join(apiserver), "n1")
    assert len((await client.resource("NodeCredentialRequest").list()).items) == before, "a refusal stores nothing"
    assert await who(held) == "system:node:n1"

    await fresh_lease(client, "n1", renewed=time.time() - 120)     # the node is gone: its Lease ran out
    taken_over = await request_credential(await join(apiserver), "n1")
    assert await who(taken_over) == "system:node:n1"
    assert await refused(held), "the dead node's credential is no longer the node's"


async def test_the_agent_keeps_renews_and_rebootstraps_its_credential(tmp_path):
    async with running_apiserver(tmp_path / "data", node_credential_seconds=3) as apiserver:
        root = tmp_path / "agent"
        root.mkdir()
        server = apiserver.address

        async def bootstrap_config():
            return await join(apiserver)
        config = await agent_node_config(root, "n1", bootstrap_config, server=server)
        assert load_config(root / KUBELET_CONFIG) == config
        assert (root / KUBELET_CONFIG).stat().st_mode & 0o777 == 0o600
        assert await agent_node_config(root, "n1", bootstrap_config, server=server) == config, "kept, not asked again"

        async with Client(config) as client:
            renewer = Renewer(client, root=root, node_name="n1", bootstrap=bootstrap_config)
            task = asyncio.create_task(renewer.run())
            try:
                await eventually(until(lambda: renewer.renewals >= 2), timeout=20, what="two renewals")
                assert (await client.version()).user == "system:node:n1"
                assert load_config(root / KUBELET_CONFIG).token == client.config.token
                assert await refused(config)
            finally:
                task.cancel()
        kept = load_config(root / KUBELET_CONFIG)
        await eventually(until(lambda: time.time() > kept.expires), timeout=10, what="the credential to expire")
        assert await refused(kept), "an expired credential is refused"
        again = await agent_node_config(root, "n1", bootstrap_config, server=server)
        assert again.token != kept.token and await who(again) == "system:node:n1"


async def test_old_requests_are_cleaned_up(tmp_path):
    async with running_apiserver(tmp_path / "data", superseded_credential_seconds=0) as apiserver, \
            admin_client(apiserver) as client:
        first = await node_config(apiserver, "n1")
        second = await request_credential(first, "n1")
        assert apiserver.node_credentials.stale(grace_seconds=0) == [first.token.split(":")[1]]
        await apiserver._forget_credentials(0)
        names = [r.metadata.name for r in (await client.resource("NodeCredentialRequest").list()).items]
        assert names == [second.token.split(":")[1]]
        assert await who(second) == "system:node:n1"


async def test_a_server_upgraded_in_place_demotes_the_old_node_token(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "tokens").write_text("oldsecret,system:node,system:node,system:nodes\n")
    creds = bootstrap.prepare(data, names=["127.0.0.1"])
    assert creds.join_token.endswith("::node:oldsecret"), "joined agents keep working with the same token"
    assert creds.tokens.authenticate("oldsecret") == auth.User("system:bootstrap:join-token",
                                                               (auth.BOOTSTRAP_GROUP,))
    async with running_apiserver(data) as apiserver, admin_client(apiserver) as client:
        assert (await client.version()).user == "admin"


async def test_a_replaced_join_token_stops_bootstrapping_but_not_the_nodes(tmp_path):
    """The README's way to retire a join token a compromised host kept."""
    data = tmp_path / "data"
    async with running_apiserver(data) as apiserver:
        old_join = await join(apiserver)
        node = await node_config(apiserver, "n1")
    tokens = data / "tokens"
    tokens.write_text("".join(line for line in tokens.read_text().splitlines(keepends=True)
                              if "system:bootstrap:join-token" not in line))
    async with running_apiserver(data) as apiserver:
        assert not apiserver.credentials.join_token.endswith(old_join.token)
        old_join = dataclasses.replace(old_join, server=apiserver.address)
        assert await refused(old_join)
        assert await who(dataclasses.replace(node, server=apiserver.address)) == "system:node:n1"
        assert await who(await node_config(apiserver, "n2")) == "system:node:n2"
