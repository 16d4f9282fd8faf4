"""`/metrics` over plain HTTP, for the processes that bind `--metrics-bind-address`.

The page is unauthenticated (as kube-proxy's 127.0.0.1:10249 is), so every
default address is loopback: reaching it takes a shell on the host. Binding
it elsewhere is the operator's choice, and logged as a warning. The API
server's own metrics are on its REST port instead, behind TLS, a token and
authorization (rest/server.py).

Several components share a host in tests and small clusters: a *default*
address that is taken is a warning and no endpoint (the component runs on);
an address the operator chose that cannot be bound is an error.
"""
from __future__ import annotations

import ipaddress
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from controlplane.metrics.flag import FLAG, parse

log = logging.getLogger(__name__)

PATH = "/metrics"


def page() -> tuple[bytes, str]:
    """The exposition text of every series in this process, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class MetricsEndpoint:
    def __init__(self, runner: web.AppRunner, address: str):
        self._runner = runner
        self.address = address      # host:port as bound (the port chosen when 0 was asked for)

    async def stop(self) -> None:
        await self._runner.cleanup()


async def _serve(_request: web.Request) -> web.Response:
    body, content_type = page()
    return web.Response(body=body, headers={"Content-Type": content_type})


async def start(address: str, *, default: str) -> MetricsEndpoint | None:
    """Serve at `address` ("" serves nothing). ValueError, naming the flag, when an address the
    operator chose is malformed or cannot be bound."""
    if not address:
        return None
    host, port = parse(address)
    app = web.Application()
    app.router.add_get(PATH, _serve)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        if address == default:
            log.warning("metrics: cannot bind the default %s (%s); serving no metrics (give %s)",
                        address, e.strerror or e, FLAG)
            return None
        raise ValueError(f"{FLAG}: cannot bind {address}: {e.strerror or e}") from None
    bound = site._server.sockets[0].getsockname()
    if not ipaddress.ip_address(host).is_loopback:
        log.warning("metrics: serving unauthenticated metrics on %s, beyond loopback", address)
    endpoint = MetricsEndpoint(runner, f"{host}:{bound[1]}" if ":" not in host else f"[{host}]:{bound[1]}")
    log.info("metrics on http://%s%s", endpoint.address, PATH)
    return endpoint
