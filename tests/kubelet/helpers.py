"""Writing static pod manifests, reading API objects, waiting for what the kubelet reports, a loopback server."""
import asyncio
import contextlib
from collections.abc import Callable

import yaml

from controlplane.client.errors import NotFound
from tests.kubelet.conftest import NODE
from tests.support.polling import eventually


def write_pod(manifests, name: str, spec: dict, **metadata) -> None:
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, **metadata}, "spec": spec}
    (manifests / f"{name}.yaml").write_text(yaml.safe_dump(manifest))


def reported(kubelet, name: str):
    """The latest status the kubelet computed for static pod `name`, or None."""
    for pod, status in kubelet.status.statuses.values():
        if pod.metadata.name == f"{name}-{NODE}":
            return status
    return None


def container(status, name: str):
    return next(c for c in (*status.container_statuses, *status.init_container_statuses) if c.name == name)


async def until(kubelet, name: str, check, *, timeout: float = 30.0, what: str = ""):
    """Wait until check(status) holds for pod `name`; returns that status."""
    async def probe():
        status = reported(kubelet, name)
        return status if status is not None and check(status) else None
    return await eventually(probe, timeout=timeout, what=what or f"pod {name} to satisfy {check}")


async def fetched(client, kind: str, name: str, namespace: str = ""):
    """The API object, or None while it does not exist (for polling)."""
    try:
        return await client.resource(kind).get(name, namespace=namespace)
    except NotFound:
        return None


@contextlib.asynccontextmanager
async def loopback_http(*, status: bytes = b"200 OK", on_request: Callable[[str], None] = lambda path: None):
    """An HTTP server on 127.0.0.1 answering every request with `status`, telling `on_request` the path;
    yields its port."""
    async def answer(reader, writer):
        request = await reader.readline()
        on_request(request.decode().split()[1])
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
