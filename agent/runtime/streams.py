"""Container logs, exec and attach: the byte streams out of (and into) containers.

The client's streams block, so each one runs on a thread of its own, never on
the engine's pool: a `logs -f` that lasts an hour must not take a worker
from pod syncs. Exec uses the attach socket directly from the event loop
(ExecSession). A probe's exec with a timeout closes the socket when time is
up and leaves the command to run (Docker cannot kill an exec'd process;
Kubernetes had the same limit with dockershim).
"""
import asyncio
import concurrent.futures
import socket as socketlib
import threading
from collections.abc import AsyncIterator, Iterator

from agent.runtime.dockerstream import STDERR, STDOUT, split_frames
from agent.runtime.engine import Engine
from agent.runtime.errors import runtime_error
from agent.runtime.types import ExecResult

__all__ = ["STDERR", "STDOUT", "Streams", "ExecSession", "AttachSession", "iterate_in_thread"]

_END = object()


class Streams:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def logs(self, container_id: str, *, follow: bool = False, tail: int | None = None,
                   timestamps: bool = False, since: float | None = None) -> AsyncIterator[bytes]:
        """The container's stdout and stderr as they were written (interleaved), chunk by chunk."""
        api = self._engine.api
        stream = await self._engine.call(
            api.logs, container_id, follow=follow, timestamps=timestamps,
            tail="all" if tail is None else tail, since=since)
        async for chunk in iterate_in_thread(stream, close=stream.close):
            yield chunk

    async def exec(self, container_id: str, command: list[str], *, timeout: float | None = None) -> ExecResult:
        """Run a command in a running container and collect its output (stdout and stderr) and exit code."""
        session = await self.exec_session(container_id, command)
        output = bytearray()
        try:
            async with asyncio.timeout(timeout):
                async for _, data in session.output():
                    output += data
        except TimeoutError:
            return ExecResult(exit_code=None, output=bytes(output), timed_out=True)
        finally:
            session.close()
        return ExecResult(exit_code=await session.exit_code(), output=bytes(output))

    async def exec_session(self, container_id: str, command: list[str], *, stdin: bool = False,
                           tty: bool = False) -> "ExecSession":
        """Start a command in a running container; talk to it through the session."""
        api = self._engine.api
        created = await self._engine.call(api.exec_create, container_id, command, stdout=True, stderr=True,
                                          stdin=stdin, tty=tty)
        sock = await self._engine.call(api.exec_start, created["Id"], tty=tty)
        return ExecSession(self._engine, created["Id"], sock, tty=tty)


    async def attach_session(self, container_id: str, *, stdin: bool = False, tty: bool = False) -> "AttachSession":
        """The running container's main process: its output from now on, and its stdin if asked."""
        api = self._engine.api
        sock = await self._engine.call(api.attach_socket, container_id, stdin=stdin)
        return AttachSession(self._engine, container_id, sock, tty=tty)


class ExecSession:
    """One exec'd process: stdin in, (stream, bytes) out, then its exit code.

    The attach socket is used non-blocking from the event loop, so a session
    costs no thread however long it lasts. Without a tty Docker multiplexes
    stdout and stderr into frames (split_frames); with a tty there is one
    raw stream, reported as stdout.
    """

    def __init__(self, engine: Engine, exec_id: str, sock: socketlib.socket, *, tty: bool) -> None:
        self._engine = engine
        self.exec_id = exec_id
        self._sock = sock
        self._tty = tty
        sock.setblocking(False)

    async def output(self) -> AsyncIterator[tuple[int, bytes]]:
        loop = asyncio.get_running_loop()
        pending = b""
        while chunk := await loop.sock_recv(self._sock, 65536):
            if self._tty:
                yield STDOUT, chunk
                continue
            frames, pending = split_frames(pending + chunk)
            for stream, data in frames:
                yield stream, data

    async def write(self, data: bytes) -> None:
        await asyncio.get_running_loop().sock_sendall(self._sock, data)

    def close_stdin(self) -> None:
        """End of input: the process reads EOF, the output keeps flowing."""
        try:
            self._sock.shutdown(socketlib.SHUT_WR)
        except OSError:
            pass

    async def resize(self, *, width: int, height: int) -> None:
        await self._engine.call(self._engine.api.exec_resize, self.exec_id, height=height, width=width)

    async def exit_code(self) -> int | None:
        """The exit code; the stream can end a moment before Docker records it."""
        for _ in range(100):
            info = await self._engine.call(self._engine.api.exec_inspect, self.exec_id)
            if not info.get("Running"):
                return info.get("ExitCode")
            await asyncio.sleep(0.01)
        return None

    def close(self) -> None:
        self._sock.close()


class AttachSession(ExecSession):
    """An attach to a container's main process: the same socket protocol as an exec's.

    Its `exec_id` is the container's id. The session ends when the process does or the caller leaves;
    as kubelet's attach, it reports success rather than the process's exit code (that is the container's
    status, and a caller that detaches has no code to report).
    """

    async def resize(self, *, width: int, height: int) -> None:
        await self._engine.call(self._engine.api.resize, self.exec_id, height=height, width=width)

    async def exit_code(self) -> int | None:
        return 0


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
