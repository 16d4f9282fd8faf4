"""Cluster DNS against a real API server, listening on its link-local address inside a node namespace.

Queries are sent from a process inside that namespace, as a pod's or the
node's would be."""
import asyncio
import contextlib
import json
import pathlib
import sys

import pytest

from controlplane.api import convert
from controlplane.api.kinds import KINDS

from agent.dns.controller import ClusterDns, system_upstreams
from agent.dns.listen import DEFAULT_ADDRESS
from tests.support.netns import Lab
from tests.support.polling import eventually

KUBECTL_EXTERNAL_NAME = pathlib.Path(__file__).parents[1] / "api/testdata/service-externalname.yaml"
QUERY = """
import json, sys
from dnslib import DNSRecord
reply = DNSRecord.parse(DNSRecord.question(sys.argv[1], sys.argv[2]).send(sys.argv[3], 53, timeout=3))
print(json.dumps({"rcode": reply.header.rcode, "answers": sorted(str(rr.rdata) for rr in reply.rr)}))
"""


@pytest.fixture
def node():
    with Lab() as lab:
        yield lab.netns("dns")


async def ask(ns, name, qtype="A", server=DEFAULT_ADDRESS):
    """A query from a process in the namespace (in a thread: the server shares this event loop)."""
    done = await asyncio.to_thread(ns.run, sys.executable, "-c", QUERY, name, qtype, server, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@contextlib.asynccontextmanager
async def running(dns):
    task = asyncio.create_task(dns.run())
    try:
        await asyncio.wait_for(dns.ready.wait(), 10)
        yield dns
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_services_written_through_the_api_resolve_in_the_node(client, node):
    services, endpoints = client.resource("Service"), client.resource("Endpoints")
    await services.create(KINDS["Service"].new(
        metadata={"name": "web", "namespace": "default"},
        spec={"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}))
    web = await services.get("web", namespace="default")
    async with running(ClusterDns(client=client, netns=node.name, upstreams=[])):
        # listed before it answered: an existing Service is never NXDOMAIN
        assert await ask(node, "web.default.svc.cluster.local") == {"rcode": 0, "answers": [web.spec.cluster_ip]}
        assert (await ask(node, "_http._tcp.web.default.svc.cluster.local", "SRV"))["answers"] == \
            ["0 100 80 web.default.svc.cluster.local."]

        await services.create(KINDS["Service"].new(
            metadata={"name": "db", "namespace": "default"},
            spec={"cluster_ip": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]}))
        await endpoints.create(KINDS["Endpoints"].new(
            metadata={"name": "db", "namespace": "default"},
            subsets=[{"addresses": [{"ip": "198.19.1.5"}, {"ip": "198.19.2.6"}], "ports": [{"port": 5432}]}]))
        async def db_answers():
            return (await ask(node, "db.default.svc.cluster.local"))["answers"] == ["198.19.1.5", "198.19.2.6"]
        assert await eventually(db_answers)

        await services.delete("web", namespace="default")
        async def web_gone():
            return (await ask(node, "web.default.svc.cluster.local"))["rcode"] == 3   # NXDOMAIN
        assert await eventually(web_gone)
        assert (await ask(node, "example.com"))["rcode"] == 2   # SERVFAIL: no upstream here


async def test_an_external_name_service_resolves_as_a_cname(client, node):
    """kubectl's `create service externalname` manifest, unchanged."""
    (manifest,) = convert.load_manifests(KUBECTL_EXTERNAL_NAME.read_text())
    await client.resource("Service").create(convert.from_manifest(manifest))
    async with running(ClusterDns(client=client, netns=node.name, upstreams=[])):
        for qtype in ("A", "CNAME"):
            assert await ask(node, "search.default.svc.cluster.local", qtype) == \
                {"rcode": 0, "answers": ["www.example.com."]}


def test_upstreams_come_from_resolv_conf_without_our_own_address(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text(f"search example.org\nnameserver 192.0.2.53\nnameserver {DEFAULT_ADDRESS}\n"
                    "nameserver 2001:db8::53\nnameserver 198.51.100.53\n")
    assert system_upstreams(resolv_conf=conf) == [("192.0.2.53", 53), ("198.51.100.53", 53)]
    assert system_upstreams(resolv_conf=tmp_path / "missing") == []
