"""HTTP/1.1 to the Docker Engine, with the standard library only: the transport under dockerapi.py.

The Engine API is plain HTTP over the daemon's unix socket (`unix:///run/docker.sock`) or TCP
(`tcp://host:port`). Three shapes of exchange, and what each costs:

- a request and its whole answer (`request`): on this thread's keep-alive connection, so the
  engine's pool threads (engine.py) each reuse one socket instead of connecting per call;
- an answer read as it comes (`stream`: logs, events, pulls). Docker sends these with chunked
  encoding and no end in sight, so each takes a connection of its own, closed when done;
- a hijack (`hijack`: exec and attach). The request asks to upgrade the connection
  (`Connection: Upgrade`, `Upgrade: tcp`); after Docker's `101 UPGRADED` the socket is no longer
  HTTP but the process's raw stdin/stdout, in both directions. http.client reads ahead into a
  buffer, which would swallow the first output bytes, so the status line and headers are read
  here byte by byte, leaving the socket exactly at the stream's start.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import weakref
from collections.abc import Iterator
from urllib.parse import quote, urlencode, urlsplit

DEFAULT_TIMEOUT = 60.0

# Failures of the connection itself (rather than an answer from Docker) in its many spellings.
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


class DockerError(Exception):
    """Docker answered with an error status; `message` is Docker's own explanation."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class DockerUnreachable(ConnectionError):
    """No answer: the socket is missing, refused, closed mid-way, or timed out."""


class _UnixConnection(http.client.HTTPConnection):
    """http.client over an AF_UNIX socket: only how the socket is made differs."""

    def __init__(self, path: str, *, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)   # the Host header Docker ignores
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def path_of(template: str, *args: str) -> str:
    """An API path with names quoted: image names keep their `/` and `:` (Docker's router allows them)."""
    return template.format(*(quote(arg, safe="/:") for arg in args))


def query_string(params: dict | None) -> str:
    """?a=1&b=x from params; None values are left out, booleans are 1/0, lists repeat the key."""
    if not params:
        return ""
    cleaned = {k: int(v) if isinstance(v, bool) else v for k, v in params.items() if v is not None}
    return "?" + urlencode(cleaned, doseq=True) if cleaned else ""


def error_of(status: int, reason: str, body: bytes) -> DockerError:
    """Docker's error answers are {"message": "..."}; anything else is shown as it came."""
    try:
        message = json.loads(body)["message"]
    except (ValueError, KeyError, TypeError):
        message = body.decode(errors="replace").strip() or reason
    return DockerError(status, message)


def parse_url(base_url: str) -> tuple[str | None, tuple[str, int] | None]:
    """(unix socket path, None) or (None, (host, port)); ValueError for anything else."""
    url = urlsplit(base_url)
    if url.scheme in ("unix", "http+unix") and url.path:
        return url.path, None
    if url.scheme in ("tcp", "http") and url.hostname:
        return None, (url.hostname, url.port or 2375)
    raise ValueError(f"Docker URL {base_url!r}: expected unix:///path or tcp://host:port")


class Transport:
    """Requests to one daemon; safe to use from many threads (one connection each)."""

    def __init__(self, base_url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._unix_path, self._address = parse_url(base_url)
        self.base_url = base_url
        self.timeout = timeout
        self._local = threading.local()
        self._open: weakref.WeakSet = weakref.WeakSet()   # every live connection, for close()
        self._lock = threading.Lock()

    def _new_connection(self, timeout: float | None) -> http.client.HTTPConnection:
        if self._unix_path is not None:
            conn = _UnixConnection(self._unix_path, timeout=timeout)
        else:
            conn = http.client.HTTPConnection(*self._address, timeout=timeout)
        with self._lock:
            self._open.add(conn)
        return conn

    def _thread_connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's keep-alive connection, and whether it served a request before."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None:
            return conn, True
        if conn is None:
            conn = self._local.conn = self._new_connection(self.timeout)
        return conn, False

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None,
                timeout: float | None = None) -> bytes:
        """The whole answer's body; DockerError for an error status, DockerUnreachable for no answer.

        A connection that sat idle may have been closed by the daemon (or the daemon restarted):
        when a reused one fails before any answer, the request is sent once more on a fresh one."""
        timeout = self.timeout if timeout is None else timeout
        conn, reused = self._thread_connection()
        with self._closed_on_failure(conn):
            try:
                response = self._send(conn, method, path, body, headers, timeout)
            except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
                conn.close()
                if not reused:
                    raise
                response = self._send(conn, method, path, body, headers, timeout)
            data = response.read()
        if response.will_close:
            conn.close()
        if response.status >= 400:
            raise error_of(response.status, response.reason, data)
        return data

    def stream(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None,
               timeout: float | None = None) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """An answer to read as it comes, on a connection of its own. timeout: for each read, the
        first included (None: wait for ever; a pull's answer starts only once the registry answered)."""
        conn = self._new_connection(self.timeout)
        with self._closed_on_failure(conn):
            response = self._send(conn, method, path, body, headers, timeout)
            if response.status >= 400:
                raise error_of(response.status, response.reason, response.read())
        return conn, response

    def hijack(self, path: str, *, body: dict | None = None) -> socket.socket:
        """POST with an upgrade; the socket afterwards carries the raw stream (see the module docstring)."""
        conn = self._new_connection(self.timeout)
        payload = json.dumps(body).encode() if body is not None else b""
        head = (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n").encode()
        with self._closed_on_failure(conn):
            conn.connect()
            sock = conn.sock
            sock.sendall(head + payload)
            reader = sock.makefile("rb", buffering=0)   # unbuffered: reads no byte past the headers
            try:
                status_line = reader.readline(65537).decode("latin-1").split(None, 2)
                if len(status_line) < 2 or not status_line[1].isdigit():
                    raise http.client.BadStatusLine(" ".join(status_line))
                answer = http.client.parse_headers(reader)
                status = int(status_line[1])
                if status >= 400:
                    raise error_of(status, status_line[-1], reader.read(int(answer.get("Content-Length") or 0)))
            finally:
                reader.close()   # the file object only: the socket stays open
        conn.sock = None   # the socket is the caller's now
        sock.settimeout(None)
        return sock

    @staticmethod
    def _send(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None,
              headers: dict | None, timeout: float | None) -> http.client.HTTPResponse:
        if conn.sock is None:
            conn.connect()
        conn.sock.settimeout(timeout)
        conn.request(method, path, body=body, headers=headers or {})
        return conn.getresponse()

    @contextlib.contextmanager
    def _closed_on_failure(self, conn: http.client.HTTPConnection) -> Iterator[None]:
        """Close the connection if the exchange fails; no answer at all becomes DockerUnreachable."""
        try:
            yield
        except TRANSPORT_ERRORS as e:
            conn.close()
            if isinstance(e, TimeoutError):
                raise DockerUnreachable(f"Docker at {self.base_url} did not answer in time") from e
            raise DockerUnreachable(f"Docker at {self.base_url}: {e}") from e
        except DockerError:
            conn.close()
            raise

    def close(self) -> None:
        """Close every connection still open (another thread's too: its next request reconnects)."""
        with self._lock:
            connections = list(self._open)
        for conn in connections:
            conn.close()
