"""A DNS server on asyncio: the zone answers the cluster domain, upstream servers the rest.

UDP and TCP on the same address and port (a client retries over TCP when a
UDP reply had to be truncated). Queries outside the cluster domain are
relayed unchanged to the upstream servers in order, over the transport they
came on; with no upstream, or none answering in time, the client gets
SERVFAIL. A reply too large for UDP (512 bytes, or the client's EDNS buffer
size up to 4096) goes out truncated, question kept, TC set.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time
from collections.abc import Sequence

from dnslib import EDNS0, QTYPE, RCODE, DNSError, DNSHeader, DNSRecord

from agent.dns.zone import Zone
from controlplane.metrics import dns as dns_metrics

log = logging.getLogger(__name__)

UDP_DEFAULT_SIZE = 512
UDP_MAX_SIZE = 4096
Upstream = tuple[str, int]


class DnsServer:
    def __init__(self, zone: Zone, *, upstreams: Sequence[Upstream] = (), forward_timeout: float = 2.0):
        self.zone = zone
        self.upstreams = list(upstreams)
        self.forward_timeout = forward_timeout
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    async def start(self, udp: socket.socket, tcp: socket.socket) -> None:
        """Serve on already bound sockets (they may have been made in another network namespace)."""
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(self), sock=udp)
        self._tcp = await asyncio.start_server(self._tcp_client, sock=tcp)

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    async def reply(self, data: bytes, *, tcp: bool) -> bytes | None:
        """The reply to one DNS message; None: unparseable, nothing to say."""
        try:
            request = DNSRecord.parse(data)
        except (DNSError, ValueError, IndexError, struct.error):
            return _formerr(data)
        if request.header.qr:   # a response, not a query: never answer it (no reply loops)
            return None
        if not request.questions:
            return _formerr(data)
        started = time.perf_counter()
        answer, zone = await self._answer(request, data, tcp=tcp)
        dns_metrics.answered(tcp=tcp, qtype=QTYPE.get(request.q.qtype, "other"), zone=zone,
                             rcode=_rcode(answer), seconds=time.perf_counter() - started)
        return answer

    async def _answer(self, request: DNSRecord, data: bytes, *, tcp: bool) -> tuple[bytes, str]:
        """(the packed answer to a query, the zone that answered it: the cluster domain's, or "." upstream)."""
        if request.header.opcode != 0:
            response = request.reply()
            response.header.rcode = RCODE.NOTIMP
            return response.pack(), dns_metrics.FORWARDED_ZONE
        response = self.zone.answer(request)
        zone = str(self.zone.domain) if response is not None else dns_metrics.FORWARDED_ZONE
        if response is None:
            forwarded = await self._forward(data, tcp=tcp)
            if forwarded is not None:
                return forwarded, zone
            response = request.reply()
            response.header.rcode = RCODE.SERVFAIL
        limit = None if tcp else _udp_limit(request)
        if any(rr.rtype == QTYPE.OPT for rr in request.ar):
            response.add_ar(EDNS0(udp_len=UDP_MAX_SIZE))
        packed = response.pack()
        if limit is not None and len(packed) > limit:
            truncated = DNSRecord(DNSHeader(id=request.header.id, bitmap=response.header.bitmap, tc=1),
                                  q=request.q)
            packed = truncated.pack()
        return packed, zone

    async def _forward(self, data: bytes, *, tcp: bool) -> bytes | None:
        for upstream in self.upstreams:
            try:
                return await asyncio.wait_for(_ask_tcp(upstream, data) if tcp else _ask_udp(upstream, data),
                                              self.forward_timeout)
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as e:
                log.debug("upstream %s:%d: %s", *upstream, e)
        return None

    async def _tcp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                answer = await self.reply(await reader.readexactly(length), tcp=True)
                if answer is None:
                    break
                writer.write(struct.pack("!H", len(answer)) + answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer):
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task] = set()

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        task = asyncio.get_running_loop().create_task(self._answer(data, addr))
        self._tasks.add(task)          # keep a reference until done: the loop holds tasks weakly
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, data: bytes, addr) -> None:
        answer = await self.server.reply(data, tcp=False)
        if answer is not None and self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(answer, addr)


def _udp_limit(request: DNSRecord) -> int:
    for rr in request.ar:
        if rr.rtype == QTYPE.OPT:
            return max(UDP_DEFAULT_SIZE, min(rr.rclass, UDP_MAX_SIZE))
    return UDP_DEFAULT_SIZE


def _rcode(answer: bytes) -> str:
    """The rcode's name from a packed answer's header (an upstream's included)."""
    return RCODE.get(answer[3] & 0x0F, "other") if len(answer) >= 4 else "other"


def _formerr(data: bytes) -> bytes | None:
    """FORMERR with the query's id, if there is at least a header to take it from."""
    if len(data) < 12:
        return None
    header = DNSHeader(id=struct.unpack("!H", data[:2])[0], qr=1, rcode=RCODE.FORMERR)
    return DNSRecord(header).pack()


async def _ask_udp(upstream: Upstream, data: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()
    query_id = data[:2]

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, reply: bytes, addr) -> None:
            if reply[:2] == query_id and not done.done():
                done.set_result(reply)

        def error_received(self, exc: Exception) -> None:
            if not done.done():
                done.set_exception(exc)

    transport, _ = await loop.create_datagram_endpoint(Client, remote_addr=upstream)
    try:
        transport.sendto(data)
        return await done
    finally:
        transport.close()


async def _ask_tcp(upstream: Upstream, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(*upstream)
    try:
        writer.write(struct.pack("!H", len(data)) + data)
        await writer.drain()
        (length,) = struct.unpack("!H", await reader.readexactly(2))
        return await reader.readexactly(length)
    finally:
        writer.close()
