"""Health check node ports, served in a network namespace this test makes and asked from inside it."""
import asyncio
import json
import sys

import pytest

from agent.proxy.healthcheck import HealthChecks, wanted
from agent.proxy.model import Endpoint, ProxyState, ServicePortInfo, ServicePortName
from tests.support.netns import Lab
from tests.support.ports import free_port

HTTP = ServicePortName("default", "web", "http")
HTTPS = ServicePortName("default", "web", "https")

GET = """
import sys, urllib.request, urllib.error, json
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=3) as r:
        print(json.dumps([r.status, json.loads(r.read())]))
except urllib.error.HTTPError as e:
    print(json.dumps([e.code, json.loads(e.read())]))
except OSError as e:
    print(json.dumps([0, type(e).__name__]))
"""


def state(port, *endpoints):
    info = dict(cluster_ip="198.19.128.10", node_port=30080, external_local=True, health_check_node_port=port)
    return ProxyState(services={HTTP: ServicePortInfo(port=80, **info), HTTPS: ServicePortInfo(port=443, **info)},
                      endpoints={HTTP: endpoints, HTTPS: endpoints})


def test_local_ready_endpoints_are_counted_once_per_service():
    here = Endpoint("198.19.0.2", 8080, local=True)
    assert wanted(state(30100, here, Endpoint("198.19.0.3", 8080, local=True, ready=False),
                        Endpoint("198.19.1.2", 8080))) == {30100: ("default", "web", 1)}
    assert wanted(state(0, here)) == {}


@pytest.fixture
def node():
    """A namespace of its own (made outside the event loop: pyroute2's sync socket runs one of its own)."""
    with Lab() as lab:
        ns = lab.netns("hc")
        ns.run("ip", "link", "set", "lo", "up")
        yield ns


async def test_200_with_a_local_endpoint_503_without_and_closed_when_gone(node):
    port = free_port()
    checks = HealthChecks(netns=node.name)

    async def ask():
        done = await asyncio.to_thread(node.run, sys.executable, "-c", GET, str(port))
        return json.loads(done.stdout)
    try:
        checks.update(state(port, Endpoint("198.19.0.2", 8080, local=True)))
        assert await ask() == [200, {"service": {"namespace": "default", "name": "web"}, "localEndpoints": 1,
                                     "serviceProxyHealthy": True}]
        checks.update(state(port, Endpoint("198.19.1.2", 8080)), changed=[HTTP, HTTPS])
        status, body = await ask()
        assert status == 503 and body["localEndpoints"] == 0
        checks.update(state(0), changed=[HTTP, HTTPS])
        await asyncio.sleep(0.1)
        assert await ask() == [0, "URLError"]
    finally:
        checks.close()
