"""A quiet watch stays open whatever pings its client sends.

Seen on the Vagrant VMs: `cox rollout status` waited on a watch that had no
event for a while and was cut with GOAWAY "too_many_pings". gRPC's default
policy closes a connection after two pings closer than 5 minutes while the
server sends nothing; our clients ping every 30 s, and the option meant to
lower that floor was misspelt (`min_recv_ping_interval...`), so gRPC ignored
it. The server now tolerates any pings (controlplane/apiserver/server.py).
"""
import asyncio

import grpc

from controlplane.api.kinds import KINDS
from controlplane.client.client import Resource
from tests.support.objects import configmap

# As often as gRPC lets a client ping (about once a second): well inside any floor between pings.
EAGER_PINGS = [("grpc.keepalive_time_ms", 200), ("grpc.keepalive_timeout_ms", 5_000),
               ("grpc.keepalive_permit_without_calls", 1), ("grpc.http2.max_pings_without_data", 0)]


async def test_a_quiet_watch_outlives_a_client_that_pings_often(apiserver, client):
    creds = apiserver.credentials
    channel = grpc.aio.secure_channel(apiserver.address, grpc.ssl_channel_credentials(creds.ca_pem),
                                      options=EAGER_PINGS)
    configmaps = Resource(channel, KINDS["ConfigMap"], timeout=None,
                          metadata=(("authorization", f"Bearer {creds.admin_token}"),))
    since = (await client.resource("ConfigMap").list(namespace="default")).metadata.resource_version
    stream = configmaps.watch(namespace="default", resource_version=since).__aiter__()
    try:
        first = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(8)   # no event: only pings go over the connection
        assert not first.done(), f"the watch ended while quiet: {first.exception()!r}"
        await client.resource("ConfigMap").create(configmap("after-the-quiet"))
        event = await asyncio.wait_for(first, 10)
        assert (event.type, event.object.metadata.name) == ("ADDED", "after-the-quiet")
    finally:
        await stream.aclose()
        await channel.close()
