"""The shapes of Docker's streamed answers, read as they arrive.

- Logs (and exec/attach output) of a container without a tty are *multiplexed*: stdout and
  stderr share one byte stream cut into frames, each an 8-byte header (stream id: 1 stdout,
  2 stderr; three zero bytes; payload length, 32-bit big-endian) then the payload. With a tty
  there is one stream and no framing at all, so the reader must know which it has.
- Events and pull/import progress are a sequence of JSON objects, one after another (Docker ends
  each with a newline, but chunk boundaries fall anywhere, so objects are cut out of a buffer).
"""
from __future__ import annotations

import http.client
import json
import socket
import struct
from collections.abc import Iterator

from agent.runtime.dockerhttp import TRANSPORT_ERRORS, DockerError, DockerUnreachable

FRAME_HEADER = struct.Struct(">BxxxL")   # stream id, 3 pad bytes, payload length
STDOUT, STDERR = 1, 2
CHUNK = 65536

_DECODER = json.JSONDecoder()


def split_frames(buffer: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """A multiplexed stream → ([(stream id, payload) of complete frames], the incomplete rest)."""
    frames = []
    at = 0
    while len(buffer) - at >= FRAME_HEADER.size:
        stream, length = FRAME_HEADER.unpack_from(buffer, at)
        if len(buffer) - at - FRAME_HEADER.size < length:
            break
        frames.append((stream, bytes(buffer[at + FRAME_HEADER.size: at + FRAME_HEADER.size + length])))
        at += FRAME_HEADER.size + length
    return frames, bytes(buffer[at:])


def split_json(text: str) -> tuple[list, str]:
    """A JSON sequence → ([complete objects], the incomplete rest)."""
    objects = []
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        try:
            value, at_end = _DECODER.raw_decode(text, at)
        except ValueError:
            return objects, text[at:]
        objects.append(value)
        at = at_end


class Stream:
    """An answer still arriving, on a connection of its own, read in one of the shapes above
    (`shape`: chunks, frames or objects). Iterate it (blocking) in one thread; `close()` may come
    from another and ends the iteration (shutdown wakes a blocked read)."""

    def __init__(self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse, *,
                 shape: str) -> None:
        self._conn = conn
        self._response = response
        self._sock = conn.sock
        self._items = getattr(self, shape)
        self._closed = False

    def __iter__(self) -> Iterator:
        return self._items()

    def chunks(self) -> Iterator[bytes]:
        """The body as it comes, however Docker cut it."""
        while chunk := self._read(CHUNK, partial=True):
            yield chunk

    def frames(self) -> Iterator[bytes]:
        """The payloads of a multiplexed body, stdout and stderr interleaved as written."""
        while header := self._read(FRAME_HEADER.size):
            if len(header) < FRAME_HEADER.size:
                return
            _, length = FRAME_HEADER.unpack(header)
            payload = self._read(length) if length else b""
            if payload:
                yield payload

    def objects(self) -> Iterator:
        """The JSON objects of a JSON-sequence body."""
        pending = ""
        while chunk := self._read(CHUNK, partial=True):
            objects, pending = split_json(pending + chunk.decode())
            yield from objects

    def _read(self, size: int, *, partial: bool = False) -> bytes:
        try:
            return self._response.read1(size) if partial else self._response.read(size)
        except (*TRANSPORT_ERRORS, ValueError, AttributeError) as e:
            if self._closed:   # close() pulled the connection from under the read: the stream is over
                return b""
            raise DockerUnreachable(f"Docker stream broken: {e}") from e

    def close(self) -> None:
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        self._conn.close()
        self._response.close()

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def drain_progress(stream: Stream) -> None:
    """Read a pull's or an import's progress to its end. The HTTP status was 200 before the work
    began, so a failure on the way arrives as a message with "error" in it: raised as DockerError."""
    with stream:
        for message in stream:
            if isinstance(message, dict) and message.get("error"):
                raise DockerError(500, str(message["error"]))
