"""Client pings: a quiet watch stays open for a client pinging as often as the server allows; a client
flooding the server with pings is cut off.

Seen on the Vagrant VMs: `cox rollout status` waited on a watch that had no
event for a while and was cut with GOAWAY "too_many_pings". gRPC's default
policy closes a connection after three pings closer than 5 minutes while the
server sends nothing; our clients ping every 30 s, and the option meant to
lower that floor was misspelt (`min_recv_ping_interval...`), so gRPC ignored
it. The server's floor is now MIN_CLIENT_PING_MS (controlplane/apiserver/server.py),
and the rule still holds below it: the attacker's flood is refused.
"""
import asyncio

import grpc
import pytest

from controlplane.api.kinds import KINDS
from controlplane.apiserver.server import MIN_CLIENT_PING_MS
from controlplane.client.client import Resource
from controlplane.client.errors import ApiError
from tests.support.objects import configmap


def pinging_every(ms: int) -> list[tuple[str, int]]:
    """Channel options for a client that pings every `ms` whether or not anything else goes over the wire."""
    return [("grpc.keepalive_time_ms", ms), ("grpc.keepalive_timeout_ms", 5_000),
            ("grpc.keepalive_permit_without_calls", 1), ("grpc.http2.max_pings_without_data", 0)]


async def quiet_watch(apiserver, client, pings_ms: int):
    """A ConfigMap watch on its own channel pinging every `pings_ms`: (the channel, the stream, its first event)."""
    creds = apiserver.credentials
    channel = grpc.aio.secure_channel(apiserver.address, grpc.ssl_channel_credentials(creds.ca_pem),
                                      options=pinging_every(pings_ms))
    configmaps = Resource(channel, KINDS["ConfigMap"], timeout=None,
                          metadata=(("authorization", f"Bearer {creds.admin_token}"),))
    since = (await client.resource("ConfigMap").list(namespace="default")).metadata.resource_version
    stream = configmaps.watch(namespace="default", resource_version=since).__aiter__()
    return channel, stream, asyncio.ensure_future(stream.__anext__())


async def test_a_quiet_watch_outlives_a_client_pinging_as_often_as_allowed(apiserver, client):
    channel, stream, first = await quiet_watch(apiserver, client, MIN_CLIENT_PING_MS + 1_000)
    try:
        await asyncio.sleep(4 * (MIN_CLIENT_PING_MS + 1_000) / 1000)   # four pings, no event: three strikes would cut it
        assert not first.done(), f"the watch ended while quiet: {first.exception()!r}"
        await client.resource("ConfigMap").create(configmap("after-the-quiet"))
        event = await asyncio.wait_for(first, 10)
        assert (event.type, event.object.metadata.name) == ("ADDED", "after-the-quiet")
    finally:
        await stream.aclose()
        await channel.close()


async def test_a_client_flooding_the_server_with_pings_is_cut_off(apiserver, client):
    channel, stream, first = await quiet_watch(apiserver, client, 200)
    try:
        with pytest.raises(ApiError) as cut:
            await asyncio.wait_for(first, 20)
        assert "ping" in str(cut.value).lower(), cut.value
    finally:
        await stream.aclose()
        await channel.close()
