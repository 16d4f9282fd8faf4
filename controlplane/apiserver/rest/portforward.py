"""pods/portforward: kubectl's SPDY streams, each pair one TCP connection relayed to the pod's agent.

For every local connection kubectl opens two streams with the same
`requestid` header and a `port`: an error stream (`streamtype: error`) and a
data stream (`streamtype: data`). Once both are there, the bytes of the data
stream go to the agent (PodStreams.port_forward: one gRPC call per
connection) and the pod's bytes come back on it; a failure is written as text
on the error stream, which kubectl prints. Both streams end (FIN) when the
pod's side closes; kubectl's FIN on the data stream half-closes the pod's.
No HTTP here: `send` writes bytes to the connection (server.py's WebSocket).
"""
import asyncio
from typing import AsyncIterator, Awaitable, Callable

from controlplane.api.v1 import node_agent_pb2 as pb
from controlplane.apiserver import errors
from controlplane.apiserver.rest import spdy

PROTOCOL = "portforward.k8s.io"
WEBSOCKET_PROTOCOL = "SPDY/3.1+" + PROTOCOL   # kubectl 1.31+: SPDY tunnelled in WebSocket binary messages
STREAM_TYPE, PORT, REQUEST_ID = "streamtype", "port", "requestid"
ERROR_STREAM, DATA_STREAM = "error", "data"

Forward = Callable[[AsyncIterator[pb.PortForwardInput]], AsyncIterator[pb.PortForwardOutput]]


class _Pair:
    """The two streams of one forwarded connection, and the bytes waiting for the agent."""

    def __init__(self, port: int):
        self.port = port
        self.error = 0
        self.data = 0
        self.inputs: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.task: asyncio.Task | None = None


class Session:
    """One port-forward connection: frames in through `received`, frames out through `send`."""

    def __init__(self, *, start: pb.PortForwardStart, forward: Forward, send: Callable[[bytes], Awaitable[None]]):
        """`start` names the pod (its port is set per connection); `forward` is PodStreams.port_forward."""
        self._start = start
        self._forward = forward
        self._send_raw = send
        self._reader, self._writer = spdy.Reader(), spdy.Writer()
        self._lock = asyncio.Lock()          # header compression is stateful: one frame at a time, in order
        self._pairs: dict[str, _Pair] = {}
        self._by_stream: dict[int, _Pair] = {}

    async def _send(self, make: Callable[[], bytes]) -> None:
        async with self._lock:
            await self._send_raw(make())

    async def received(self, data: bytes) -> None:
        for frame in self._reader.feed(data):
            if isinstance(frame, spdy.Data):
                self._data(frame)
            elif frame.type == spdy.SYN_STREAM:
                await self._syn_stream(frame)
            elif frame.type == spdy.HEADERS:
                self._reader.headers(spdy.header_block(frame))   # read only to keep the zlib context in step
            elif frame.type == spdy.PING:
                await self._send(lambda p=frame.payload: spdy.control(spdy.PING, 0, p))
            elif frame.type == spdy.RST_STREAM:
                self._reset(spdy.stream_id(frame))
            elif frame.type == spdy.GOAWAY:
                raise ConnectionResetError("the client said GOAWAY")
            # SETTINGS and WINDOW_UPDATE: nothing to do (no flow control is enforced on either side).

    async def _syn_stream(self, frame: spdy.Control) -> None:
        stream = spdy.stream_id(frame)
        headers = self._reader.headers(spdy.header_block(frame))
        await self._send(lambda: self._writer.syn_reply(stream))
        kind, request = headers.get(STREAM_TYPE, ""), headers.get(REQUEST_ID, "")
        try:
            port = int(headers.get(PORT, ""))
        except ValueError:
            port = 0
        if kind not in (ERROR_STREAM, DATA_STREAM) or not 0 < port < 65536:
            await self._send(lambda: spdy.rst_stream(stream, spdy.PROTOCOL_ERROR))
            return
        pair = self._pairs.setdefault(request or str(stream), _Pair(port))
        setattr(pair, kind, stream)
        self._by_stream[stream] = pair
        if pair.error and pair.data and pair.task is None:
            pair.task = asyncio.create_task(self._relay(pair))

    def _data(self, frame: spdy.Data) -> None:
        pair = self._by_stream.get(frame.stream_id)
        if pair is None or frame.stream_id != pair.data:
            return   # the error stream's half-close, or a stream already gone
        if frame.data:
            pair.inputs.put_nowait(frame.data)
        if frame.flags & spdy.FLAG_FIN:
            pair.inputs.put_nowait(None)

    def _reset(self, stream: int) -> None:
        pair = self._by_stream.pop(stream, None)
        if pair is not None and pair.task is not None and stream == pair.data:
            pair.task.cancel()

    async def _relay(self, pair: _Pair) -> None:
        start = pb.PortForwardStart()
        start.CopyFrom(self._start)
        start.port = pair.port

        async def requests():
            yield pb.PortForwardInput(start=start)
            while (chunk := await pair.inputs.get()) is not None:
                yield pb.PortForwardInput(data=chunk)

        try:
            async for output in self._forward(requests()):
                await self._send(lambda d=output.data: spdy.data(pair.data, d))
        except errors.ApiError as e:
            message = f"error forwarding port {pair.port} to pod {self._start.pod}: {e.message}"
            await self._send(lambda: spdy.data(pair.error, message.encode()))
        finally:
            try:
                await self._send(lambda: spdy.data(pair.data, b"", fin=True))
                await self._send(lambda: spdy.data(pair.error, b"", fin=True))
            except (ConnectionError, RuntimeError):
                pass   # the connection is gone already

    async def close(self) -> None:
        tasks = [p.task for p in self._pairs.values() if p.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

