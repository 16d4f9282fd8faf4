"""Container logs and exec: the byte streams out of (and into) containers.

docker-py's streams block, so each one runs on a thread of its own, never on
the engine's pool: a `logs -f` that lasts an hour must not take a worker
from pod syncs. Exec with a timeout reads the attach socket against a
deadline; on timeout the socket is closed and the command is left to run
(Docker cannot kill an exec'd process; Kubernetes had the same limit with
dockershim). Probes use that; `cox exec` uses the raw socket.
"""
import asyncio
import concurrent.futures
import select
import socket as socketlib
import struct
import threading
import time
from collections.abc import AsyncIterator, Iterator

from agent.runtime.engine import Engine
from agent.runtime.errors import runtime_error
from agent.runtime.types import ExecResult

_HEADER = struct.Struct(">BxxxL")   # Docker's multiplexed stream: stream id, 3 pad bytes, length
_END = object()


class Streams:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def logs(self, container_id: str, *, follow: bool = False, tail: int | None = None,
                   timestamps: bool = False, since: float | None = None) -> AsyncIterator[bytes]:
        """The container's stdout and stderr as they were written (interleaved), chunk by chunk."""
        api = self._engine.api
        stream = await self._engine.call(
            api.logs, container_id, stream=True, follow=follow, timestamps=timestamps,
            tail="all" if tail is None else tail, since=since)
        async for chunk in iterate_in_thread(stream, close=stream.close):
            yield chunk

    async def exec(self, container_id: str, command: list[str], *, timeout: float | None = None) -> ExecResult:
        """Run a command in a running container and collect its output and exit code."""
        api = self._engine.api
        created = await self._engine.call(api.exec_create, container_id, command, stdout=True, stderr=True)
        exec_id = created["Id"]
        sock = await self._engine.call(api.exec_start, exec_id, socket=True)
        raw = _raw_socket(sock)
        deadline = None if timeout is None else time.monotonic() + timeout
        output, finished = await asyncio.to_thread(_read_frames, raw, deadline)
        raw.close()
        if not finished:
            return ExecResult(exit_code=None, output=output, timed_out=True)
        info = await self._engine.call(api.exec_inspect, exec_id)
        while info.get("Running"):   # the stream can end a moment before the exit code is recorded
            await asyncio.sleep(0.01)
            info = await self._engine.call(api.exec_inspect, exec_id)
        return ExecResult(exit_code=info.get("ExitCode"), output=output)

    async def exec_socket(self, container_id: str, command: list[str], *, tty: bool = False,
                          stdin: bool = False) -> tuple[str, socketlib.socket]:
        """Start an interactive exec; returns (exec id, the raw attach socket).

        Without tty the socket carries Docker's multiplexed frames (see
        `split_frames`); with tty it is one raw byte stream each way.
        """
        api = self._engine.api
        created = await self._engine.call(api.exec_create, container_id, command, stdout=True,
                                          stderr=True, stdin=stdin, tty=tty)
        sock = await self._engine.call(api.exec_start, created["Id"], socket=True, tty=tty)
        return created["Id"], _raw_socket(sock)

    async def exec_exit_code(self, exec_id: str) -> int | None:
        info = await self._engine.call(self._engine.api.exec_inspect, exec_id)
        return None if info.get("Running") else info.get("ExitCode")


def _raw_socket(sock) -> socketlib.socket:
    """The socket under docker-py's SocketIO wrapper, blocking, with no read timeout."""
    raw = getattr(sock, "_sock", sock)
    raw.settimeout(None)
    return raw


def _read_frames(sock: socketlib.socket, deadline: float | None) -> tuple[bytes, bool]:
    """Read a multiplexed exec stream to EOF or the deadline; (stdout+stderr, reached EOF)."""
    buffer = bytearray()
    while True:
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            return bytes(split_frames(buffer)[0]), False
        ready, _, _ = select.select([sock], [], [], wait)
        if not ready:
            continue
        chunk = sock.recv(65536)
        if not chunk:
            return bytes(split_frames(buffer)[0]), True
        buffer += chunk


def split_frames(buffer: bytes | bytearray) -> tuple[bytes, bytes]:
    """Docker's multiplexed frames → (payload of all complete frames, incomplete remainder)."""
    out = bytearray()
    at = 0
    while len(buffer) - at >= _HEADER.size:
        _, length = _HEADER.unpack_from(buffer, at)
        if len(buffer) - at - _HEADER.size < length:
            break
        out += buffer[at + _HEADER.size: at + _HEADER.size + length]
        at += _HEADER.size + length
    return bytes(out), bytes(buffer[at:])


async def iterate_in_thread(blocking: Iterator[bytes], *, close) -> AsyncIterator[bytes]:
    """Drain a blocking iterator on its own daemon thread into this event loop.

    The queue is bounded so a fast producer waits for a slow consumer; once the
    consumer is gone the producer notices within half a second and ends.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue(maxsize=64)
    stopped = threading.Event()

    def hand_over(item) -> bool:
        future = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
        while not stopped.is_set():
            try:
                future.result(0.5)
                return True
            except concurrent.futures.TimeoutError:
                continue
        future.cancel()
        return False

    def pump() -> None:
        try:
            for item in blocking:
                if not hand_over(item):
                    return
        except Exception as e:   # noqa: BLE001 - handed to the consumer, which raises it
            if not stopped.is_set():
                hand_over(runtime_error(e))
            return
        hand_over(_END)

    threading.Thread(target=pump, daemon=True, name="docker-stream").start()
    try:
        while (item := await queue.get()) is not _END:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        stopped.set()
        close()
