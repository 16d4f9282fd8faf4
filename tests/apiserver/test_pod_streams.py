"""Logs and exec: what the API server checks before relaying to an agent.

The relay itself is tested end to end with a real agent in tests/kubelet/.
"""
import pytest

from controlplane.api.wellknown import AGENT_CERT_ANNOTATION
from controlplane.client import Client, errors
from tests.support.control_plane import node_config
from tests.support.objects import pod


async def read_logs(pods, name, **kwargs):
    return b"".join([chunk async for chunk in pods.logs(name, **kwargs)])


async def test_unscheduled_pod_has_no_logs(client):
    pods = client.resource("Pod")
    await pods.create(pod("web"))
    with pytest.raises(errors.FailedPrecondition, match="not scheduled"):
        await read_logs(pods, "web")


async def test_missing_pod_and_container_choice(client):
    pods = client.resource("Pod")
    with pytest.raises(errors.NotFound):
        await read_logs(pods, "ghost")
    two = pod("two", node_name="n1")
    two.spec.containers.add(name="side", image="busybox")
    await pods.create(two)
    await client.resource("Node").create(client.resource("Node").kind.new(metadata={"name": "n1"}))
    with pytest.raises(errors.Invalid, match=r"choose one of: \[main side\]"):
        await read_logs(pods, "two")
    with pytest.raises(errors.Invalid, match="container nope is not valid"):
        await read_logs(pods, "two", container="nope")


async def test_node_without_published_agent_is_unavailable(apiserver, client):
    pods = client.resource("Pod")
    await pods.create(pod("web", node_name="n1"))
    node = client.resource("Node").kind.new(metadata={"name": "n1", "annotations": {AGENT_CERT_ANNOTATION: "ab"}})
    async with Client(await node_config(apiserver, "n1")) as n1:    # only the node itself may pin its agent
        await n1.resource("Node").create(node)
    with pytest.raises(errors.Unavailable, match="agent address"):
        await read_logs(pods, "web")
    call = await pods.exec("web", ["true"])
    with pytest.raises(Exception) as caught:
        async for _ in call:
            pass
    assert "agent address" in str(caught.value)
