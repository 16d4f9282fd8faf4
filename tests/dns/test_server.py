"""The DNS server over real UDP and TCP sockets on loopback: answers, forwarding, truncation."""
import asyncio
import socket

import pytest
from dnslib import EDNS0, QTYPE, RCODE, DNSRecord
from prometheus_client import REGISTRY

from agent.dns.listen import bind_sockets
from agent.dns.server import DnsServer
from agent.dns.zone import Zone, endpoint_records, service_record
from tests.dns.test_zone import endpoints, service
from tests.support.ports import free_port


async def start(zone, **kwargs):
    port = free_port()
    udp, tcp = bind_sockets("127.0.0.1", port)
    server = DnsServer(zone, **kwargs)
    await server.start(udp, tcp)
    return server, ("127.0.0.1", port)


async def query(address, name, qtype="A", *, tcp=False, edns=None, timeout=5.0):
    request = DNSRecord.question(name, qtype)
    if edns:
        request.add_ar(EDNS0(udp_len=edns))
    raw = await asyncio.to_thread(request.send, *address, tcp=tcp, timeout=timeout)
    return DNSRecord.parse(raw)


@pytest.fixture
async def cluster_dns():
    zone = Zone("cluster.local")
    zone.set_service(("default", "web"), service_record(service("web")))
    many = [(f"198.19.{i // 200}.{i % 200 + 2}", "") for i in range(60)]
    zone.set_service(("default", "big"), service_record(service("big", cluster_ip="None")))
    zone.set_endpoints(("default", "big"), endpoint_records(endpoints("big", many)))
    upstream_zone = Zone("example.com")
    upstream_zone.set_service(("default", "www"), service_record(service("www", cluster_ip="192.0.2.80")))
    upstream, upstream_address = await start(upstream_zone)
    server, address = await start(zone, upstreams=[upstream_address])
    yield address
    await server.stop()
    await upstream.stop()


async def test_udp_and_tcp_answer_the_cluster_zone(cluster_dns):
    for tcp in (False, True):
        reply = await query(cluster_dns, "web.default.svc.cluster.local", tcp=tcp)
        assert [str(rr.rdata) for rr in reply.rr] == ["198.19.128.10"]
    assert (await query(cluster_dns, "nope.default.svc.cluster.local")).header.rcode == RCODE.NXDOMAIN


async def test_other_names_are_forwarded_upstream(cluster_dns):
    for tcp in (False, True):
        reply = await query(cluster_dns, "www.default.svc.example.com", tcp=tcp)
        assert [str(rr.rdata) for rr in reply.rr] == ["192.0.2.80"]
    assert (await query(cluster_dns, "x.example.com")).header.rcode == RCODE.NXDOMAIN


async def test_a_large_udp_answer_is_truncated_and_complete_over_tcp(cluster_dns):
    udp = await query(cluster_dns, "big.default.svc.cluster.local")
    assert udp.header.tc and not udp.rr
    assert str(udp.q.qname) == "big.default.svc.cluster.local."   # resolvers match the question
    with_edns = await query(cluster_dns, "big.default.svc.cluster.local", edns=4096)
    assert not with_edns.header.tc and len([rr for rr in with_edns.rr if rr.rtype == QTYPE.A]) == 60
    tcp = await query(cluster_dns, "big.default.svc.cluster.local", tcp=True)
    assert not tcp.header.tc and len(tcp.rr) == 60


async def test_servfail_when_no_upstream_answers():
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # bound, never answers
    silent.bind(("127.0.0.1", 0))
    try:
        server, address = await start(Zone(), upstreams=[silent.getsockname()], forward_timeout=0.3)
        reply = await query(address, "example.org")
        assert reply.header.rcode == RCODE.SERVFAIL
        alone, alone_address = await start(Zone())
        assert (await query(alone_address, "example.org")).header.rcode == RCODE.SERVFAIL
        await server.stop()
        await alone.stop()
    finally:
        silent.close()


async def test_garbage_gets_formerr_or_silence(cluster_dns):
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.connect(cluster_dns)
    try:
        sock.send(b"\x12\x34" + b"\x01\x00" + b"\x00\x01" + b"\x00" * 6 + b"\xff\xff")   # header, broken question
        reply = DNSRecord.parse(await asyncio.wait_for(loop.sock_recv(sock, 512), 5))
        assert reply.header.id == 0x1234 and reply.header.rcode == RCODE.FORMERR
        # a response is never answered (no reply loops between servers)
        response = DNSRecord.question("web.default.svc.cluster.local").reply()
        sock.send(response.pack())
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(loop.sock_recv(sock, 512), 0.5)
    finally:
        sock.close()


async def test_queries_are_counted_as_coredns_counts_them(cluster_dns):
    def value(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0
    cluster = "cluster.local."
    before = {"udp_a": value("coredns_dns_requests_total", proto="udp", type="A", zone=cluster),
              "tcp_srv": value("coredns_dns_requests_total", proto="tcp", type="SRV", zone=cluster),
              "nxdomain": value("coredns_dns_responses_total", rcode="NXDOMAIN", zone=cluster),
              "forwarded": value("coredns_dns_requests_total", proto="udp", type="A", zone="."),
              "timed": value("coredns_dns_request_duration_seconds_count", type="A", zone=cluster)}
    await query(cluster_dns, "web.default.svc.cluster.local")
    await query(cluster_dns, "nope.default.svc.cluster.local")
    await query(cluster_dns, "_http._tcp.web.default.svc.cluster.local", "SRV", tcp=True)
    await query(cluster_dns, "www.default.svc.example.com")
    assert value("coredns_dns_requests_total", proto="udp", type="A", zone=cluster) - before["udp_a"] == 2
    assert value("coredns_dns_requests_total", proto="tcp", type="SRV", zone=cluster) - before["tcp_srv"] == 1
    assert value("coredns_dns_responses_total", rcode="NXDOMAIN", zone=cluster) - before["nxdomain"] == 1
    assert value("coredns_dns_requests_total", proto="udp", type="A", zone=".") - before["forwarded"] == 1
    assert value("coredns_dns_request_duration_seconds_count", type="A", zone=cluster) - before["timed"] == 2
