"""Health check node ports: how a load balancer in front of the nodes learns which of them to use.

A LoadBalancer Service with externalTrafficPolicy Local gets a
`healthCheckNodePort` from the API server; kube-proxy answers HTTP there on
every node: 200 while the node has a ready endpoint of the Service, 503 when
it has none (its rules would drop the traffic, render.py). The body is
kube-proxy's JSON, `{"service": {"namespace", "name"}, "localEndpoints": N,
"serviceProxyHealthy": true}`, whatever the path asked.

`wanted()` is the decision, pure; `HealthChecks` keeps one listening socket
per port, made in the node's namespace (netns.py), opened and closed as the
state changes. Answers read the latest counts, so an endpoint change needs no
socket work.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from typing import Iterable

from agent.proxy.model import ProxyState, ServicePortName
from agent.proxy.netns import socket_in

log = logging.getLogger(__name__)


def wanted(state: ProxyState, names: Iterable[ServicePortName] | None = None) -> dict[int, tuple[str, str, int]]:
    """health check port -> (namespace, name, ready endpoints on this node) of each Service that has one.
    names: the only Service ports that may have one (None: look at all)."""
    found: dict[int, tuple[str, str, set[str]]] = {}
    for name in state.services if names is None else names:
        info = state.services.get(name)
        if info is not None and info.health_check_node_port:
            _, _, local = found.setdefault(info.health_check_node_port, (name.namespace, name.name, set()))
            local.update(ep.ip for ep in state.endpoints.get(name, ()) if ep.ready and ep.local)
    return {port: (namespace, name, len(local)) for port, (namespace, name, local) in found.items()}


def response(namespace: str, name: str, local: int) -> bytes:
    body = json.dumps({"service": {"namespace": namespace, "name": name}, "localEndpoints": local,
                       "serviceProxyHealthy": True}).encode()
    status = "200 OK" if local else "503 Service Unavailable"
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


class HealthChecks:
    """Listeners on the health check ports of the latest state (call update() from the event loop)."""

    def __init__(self, *, netns: str | None = None, address: str = "0.0.0.0"):
        self._netns = netns
        self._address = address
        self._answers: dict[int, tuple[str, str, int]] = {}
        self._names: set[ServicePortName] = set()  # the Service ports with a health check port
        self._servers: dict[int, asyncio.Task] = {}  # port -> the task that made its server

    def update(self, state: ProxyState, *, changed: Iterable[ServicePortName] | None = None) -> None:
        """changed: the Service ports that may differ since the last update (None: any). Only the few
        with a health check port are looked at again, not every Service."""
        for name in state.services.keys() | self._names if changed is None else changed:
            info = state.services.get(name)
            if info is not None and info.health_check_node_port:
                self._names.add(name)
            else:
                self._names.discard(name)
        self._answers = wanted(state, self._names)
        for port in self._servers.keys() - self._answers.keys():
            _stop(self._servers.pop(port))
        for port in self._answers.keys() - self._servers.keys():
            try:
                self._servers[port] = self._listen(port)
            except OSError as e:  # a port another process holds: the rest still serve
                log.warning("health check port %d: %s", port, e)

    def _listen(self, port: int) -> asyncio.Task:
        sock = socket_in(self._netns, socket.AF_INET, socket.SOCK_STREAM, 0)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._address, port))
            sock.listen(64)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        loop = asyncio.get_running_loop()
        return loop.create_task(loop.create_server(lambda: _Answer(self, port), sock=sock))

    def answer(self, port: int) -> bytes | None:
        found = self._answers.get(port)
        return response(*found) if found else None

    def close(self) -> None:
        for task in self._servers.values():
            _stop(task)
        self._servers.clear()


def _stop(task: asyncio.Task) -> None:
    """Close the server the task made (or makes: it takes no time, the socket is bound already)."""
    task.add_done_callback(lambda done: None if done.cancelled() or done.exception() else done.result().close())


class _Answer(asyncio.Protocol):
    """Reads until the request's head ends, writes the answer, closes."""

    def __init__(self, checks: HealthChecks, port: int):
        self._checks, self._port = checks, port
        self._seen = b""

    def connection_made(self, transport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._seen += data
        if b"\r\n\r\n" in self._seen or len(self._seen) > 8192:
            with contextlib.suppress(Exception):
                self._transport.write(self._checks.answer(self._port) or response("", "", 0))
            self._transport.close()
