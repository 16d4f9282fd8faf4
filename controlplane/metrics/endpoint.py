"""`/metrics` over plain HTTP, for the processes that bind `--metrics-bind-address`.

The page is unauthenticated (as kube-proxy's 127.0.0.1:10249 is), so every
default address is loopback: reaching it takes a shell on the host. Binding
it elsewhere is the operator's choice, and logged as a warning. The API
server's own metrics are on its REST port instead, behind TLS, a token and
authorization (rest/server.py).

Several components share a host in tests and small clusters: a *default*
address that is taken is a warning and no endpoint (the component runs on);
an address the operator chose that cannot be bound is an error.

The server is asyncio's own, not aiohttp's: one page, one request per
connection, which Prometheus handles as well as keep-alive. aiohttp would
add ~8 MB to every process that serves metrics (the agent's target is 60 MB
in all; bench/agent_memory_bench.py).
"""
from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging

from controlplane.metrics import exposition
from controlplane.metrics.flag import FLAG, parse

log = logging.getLogger(__name__)

PATH = "/metrics"
HEAD_LIMIT = 16 * 1024     # request line and headers; a scraper sends a few hundred bytes
READ_TIMEOUT = 30.0        # seconds for a client to send its request


def page() -> tuple[bytes, str]:
    """The exposition text of every series in this process, and its content type."""
    return exposition.page(), exposition.CONTENT_TYPE


class MetricsEndpoint:
    def __init__(self, server: asyncio.Server, address: str):
        self._server = server
        self.address = address      # host:port as bound (the port chosen when 0 was asked for)

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()


def response(head: bytes) -> bytes:
    """The whole HTTP/1.1 response to a request whose line and headers are `head`."""
    method, _, rest = head.partition(b"\r\n")[0].partition(b" ")
    target = rest.partition(b" ")[0].partition(b"?")[0]
    if target != PATH.encode():
        status, body, content_type = "404 Not Found", b"not found\n", "text/plain; charset=utf-8"
    elif method not in (b"GET", b"HEAD"):
        status, body, content_type = "405 Method Not Allowed", b"GET only\n", "text/plain; charset=utf-8"
    else:
        body, content_type = page()
        status = "200 OK"
    headers = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
               "Connection: close\r\n\r\n").encode()
    return headers if method == b"HEAD" else headers + body


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
        writer.write(response(head))
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
        pass    # a client that went away or sent no request within bounds gets nothing
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def start(address: str, *, default: str) -> MetricsEndpoint | None:
    """Serve at `address` ("" serves nothing). ValueError, naming the flag, when an address the
    operator chose is malformed or cannot be bound."""
    if not address:
        return None
    host, port = parse(address)
    try:
        server = await asyncio.start_server(_serve, host, port, reuse_address=True, limit=HEAD_LIMIT)
    except OSError as e:
        if address == default:
            log.warning("metrics: cannot bind the default %s (%s); serving no metrics (give %s)",
                        address, e.strerror or e, FLAG)
            return None
        raise ValueError(f"{FLAG}: cannot bind {address}: {e.strerror or e}") from None
    bound = server.sockets[0].getsockname()
    if not ipaddress.ip_address(host).is_loopback:
        log.warning("metrics: serving unauthenticated metrics on %s, beyond loopback", address)
    endpoint = MetricsEndpoint(server, f"{host}:{bound[1]}" if ":" not in host else f"[{host}]:{bound[1]}")
    log.info("metrics on http://%s%s", endpoint.address, PATH)
    return endpoint
