"""SPDY/3.1 framing, the part port-forward uses: pure, no I/O.

kubectl's port-forward speaks SPDY/3.1 (the connection carries one pair of
streams per forwarded TCP connection); kubectl 1.31+ carries the SPDY bytes
inside WebSocket binary messages (subprotocol `SPDY/3.1+portforward.k8s.io`).
A frame is either a control frame (SYN_STREAM, SYN_REPLY, RST_STREAM,
SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE) or a data frame of a stream.
Header blocks are compressed with zlib, one compression context per direction
for the whole connection, primed with the dictionary the SPDY/3 specification
fixes (section 2.6.10.1), so every block must be read and written in order.
"""
import dataclasses
import struct
import zlib

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
# RST_STREAM status codes.
PROTOCOL_ERROR, REFUSED_STREAM, CANCEL = 1, 3, 5
_STREAM_ID_MASK = 0x7FFFFFFF
_HEADER = struct.Struct(">II")   # control: 1|version|type, flags|length; data: 0|stream id, flags|length

# The SPDY/3 header dictionary: these names and values, each with a 4-byte big-endian length, then the tail.
_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges "
    "age allow authorization cache-control connection content-base content-encoding content-language "
    "content-length content-location content-md5 content-range content-type date etag expect expires from "
    "host if-match if-modified-since if-none-match if-range if-unmodified-since last-modified location "
    "max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after server te trailer "
    "transfer-encoding upgrade user-agent vary via warning www-authenticate method get status").split() + [
    "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"]
_TAIL = ("100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
         "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
         "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
         "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
         "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
         "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
DICTIONARY = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()


class ProtocolError(Exception):
    """The peer sent what is not SPDY/3: the connection ends."""


@dataclasses.dataclass
class Control:
    type: int
    flags: int
    payload: bytes


@dataclasses.dataclass
class Data:
    stream_id: int
    flags: int
    data: bytes


class Reader:
    """Bytes in (as they come, in any pieces), frames out; decompresses header blocks in order."""

    def __init__(self):
        self._buffer = bytearray()
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)

    def feed(self, data: bytes) -> list[Control | Data]:
        self._buffer += data
        frames = []
        while len(self._buffer) >= _HEADER.size:
            first, second = _HEADER.unpack_from(self._buffer)
            length = second & 0xFFFFFF
            if len(self._buffer) < _HEADER.size + length:
                break
            payload = bytes(self._buffer[_HEADER.size:_HEADER.size + length])
            del self._buffer[:_HEADER.size + length]
            if first & 0x80000000:
                if (first >> 16) & 0x7FFF != VERSION:
                    raise ProtocolError(f"SPDY version {(first >> 16) & 0x7FFF}, not {VERSION}")
                frames.append(Control(first & 0xFFFF, second >> 24, payload))
            else:
                frames.append(Data(first & _STREAM_ID_MASK, second >> 24, payload))
        return frames

    def headers(self, block: bytes) -> dict[str, str]:
        """A header block's names (lowercase) and values; several values of a name are NUL-separated."""
        try:
            raw = self._inflate.decompress(block)
            count, = struct.unpack_from(">I", raw)
            at, found = 4, {}
            for _ in range(count):
                size, = struct.unpack_from(">I", raw, at)
                name = raw[at + 4:at + 4 + size].decode()
                at += 4 + size
                size, = struct.unpack_from(">I", raw, at)
                found[name.lower()] = raw[at + 4:at + 4 + size].decode()
                at += 4 + size
            return found
        except (zlib.error, struct.error, UnicodeDecodeError) as e:
            raise ProtocolError(f"header block: {e}") from None


def stream_id(control: Control) -> int:
    """The stream a SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS or WINDOW_UPDATE frame is about."""
    if len(control.payload) < 4:
        raise ProtocolError(f"control frame {control.type}: too short")
    return struct.unpack_from(">I", control.payload)[0] & _STREAM_ID_MASK


def header_block(control: Control) -> bytes:
    """The compressed header block of a SYN_STREAM (after ids, priority and slot) or SYN_REPLY/HEADERS."""
    return control.payload[10:] if control.type == SYN_STREAM else control.payload[4:]


class Writer:
    """Frames out as bytes; header blocks compressed in one context, so frames must be sent in this order."""

    def __init__(self):
        self._deflate = zlib.compressobj(zdict=DICTIONARY)

    def _block(self, headers: dict[str, str]) -> bytes:
        raw = struct.pack(">I", len(headers)) + b"".join(
            struct.pack(">I", len(k)) + k.encode() + struct.pack(">I", len(v)) + v.encode()
            for k, v in headers.items())
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def syn_reply(self, stream: int, headers: dict[str, str] | None = None) -> bytes:
        return control(SYN_REPLY, 0, struct.pack(">I", stream) + self._block(headers or {}))


def control(type_: int, flags: int, payload: bytes) -> bytes:
    return _HEADER.pack(0x80000000 | VERSION << 16 | type_, flags << 24 | len(payload)) + payload


def data(stream: int, payload: bytes, *, fin: bool = False) -> bytes:
    return _HEADER.pack(stream & _STREAM_ID_MASK, (FLAG_FIN if fin else 0) << 24 | len(payload)) + payload


def rst_stream(stream: int, status: int) -> bytes:
    return control(RST_STREAM, 0, struct.pack(">II", stream, status))
