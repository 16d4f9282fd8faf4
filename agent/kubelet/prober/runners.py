"""One probe attempt of each kind; each returns a Result, never raises.

HTTP: a plain GET over asyncio streams (HTTP/1.1, Connection: close); a
status in 200-399 succeeds, as in Kubernetes, and HTTPS does not verify the
certificate, as Kubernetes does not. TCP: the connection opens. Exec: the
command exits 0 within the timeout.
"""
import asyncio
import ssl
from dataclasses import dataclass

from agent.runtime import Runtime
from agent.runtime.errors import RuntimeFailure

USER_AGENT = "coxswain-probe/1"
_OUTPUT_LIMIT = 1024


@dataclass(frozen=True)
class Result:
    success: bool
    message: str = ""


async def exec_probe(runtime: Runtime, container_id: str, command: list[str], *, timeout: float) -> Result:
    try:
        result = await runtime.streams.exec(container_id, command, timeout=timeout)
    except RuntimeFailure as e:
        return Result(False, f"exec failed: {e}")
    output = result.output[-_OUTPUT_LIMIT:].decode(errors="replace").strip()
    if result.timed_out:
        return Result(False, f"command timed out after {timeout:g}s")
    if result.exit_code != 0:
        return Result(False, f"command exited {result.exit_code}: {output}" if output else
                      f"command exited {result.exit_code}")
    return Result(True, output)


async def tcp_probe(host: str, port: int, *, timeout: float) -> Result:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError) as e:
        return Result(False, f"dial tcp {host}:{port}: {_reason(e)}")
    writer.close()
    await _closed(writer)
    return Result(True)


async def http_probe(host: str, port: int, path: str, *, scheme: str = "HTTP",
                     headers: dict[str, str] | None = None, timeout: float, any_status: bool = False) -> Result:
    """`any_status`: any HTTP response succeeds (lifecycle hooks, which Kubernetes judges by the request only)."""
    url = f"{scheme.lower()}://{host}:{port}{path}"
    context = None
    if scheme.upper() == "HTTPS":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port, ssl=context)
            try:
                lines = [f"GET {path or '/'} HTTP/1.1", f"Host: {host}:{port}", f"User-Agent: {USER_AGENT}",
                         "Accept: */*", "Connection: close",
                         *(f"{k}: {v}" for k, v in (headers or {}).items())]
                writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
                await writer.drain()
                status_line = await reader.readline()
            finally:
                writer.close()
                await _closed(writer)
    except (OSError, TimeoutError, ssl.SSLError) as e:
        return Result(False, f'Get "{url}": {_reason(e)}')
    parts = status_line.decode(errors="replace").split()
    if len(parts) < 2 or not parts[1].isdigit():
        return Result(False, f'Get "{url}": malformed HTTP status line {status_line[:80]!r}')
    code = int(parts[1])
    if 200 <= code < 400 or any_status:
        return Result(True)
    return Result(False, f"HTTP probe failed with statuscode: {code}")


def _reason(e: BaseException) -> str:
    if isinstance(e, TimeoutError):
        return "timed out"
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


async def _closed(writer: asyncio.StreamWriter) -> None:
    try:
        await writer.wait_closed()
    except OSError:
        pass
