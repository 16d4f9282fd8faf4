"""Joining a cluster with only its address and a join token (the k3s model).

A join token is `K10<sha256 of the CA certificate>::node:<secret>`; a server
token, which a joining server presents, is the same with `::server:`. The agent
connects once without verifying, takes the certificate chain the server
presents, and keeps the certificate whose hash the token pins: a man in the
middle cannot present a CA with that hash. From then on it verifies the server
against that CA and authenticates with the secret.
"""
import hashlib
import socket
import ssl

from controlplane.client.config import ClientConfig

_PREFIX = "K10"
NODE, SERVER = "node", "server"   # who a token lets in: an agent, or another server


class JoinError(Exception):
    pass


def make_join_token(ca_der_sha256: str, secret: str, *, role: str = NODE) -> str:
    return f"{_PREFIX}{ca_der_sha256}::{role}:{secret}"


def parse_join_token(token: str, *, role: str = NODE) -> tuple[str, str]:
    """(ca_hash, secret); JoinError if it is not a token of `role`."""
    separator = f"::{role}:"
    if not token.startswith(_PREFIX) or separator not in token:
        kind = "join" if role == NODE else role
        raise JoinError(f"not a {kind} token (expected {_PREFIX}<hash>{separator}<secret>)")
    ca_hash, secret = token[len(_PREFIX):].split(separator, 1)
    return ca_hash, secret


def presented_chain(host: str, port: int, timeout: float) -> list[bytes]:
    """DER certificates the server presents, unverified."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            # Public from Python 3.13; the same method on the C object before that.
            chain = tls.get_unverified_chain() if hasattr(tls, "get_unverified_chain") \
                else tls._sslobj.get_unverified_chain()
    return [c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]


def join_config(server: str, token: str, *, timeout: float = 10.0, role: str = NODE) -> ClientConfig:
    """A client config for `server` (host:port, or several comma-separated), its CA fetched from the
    first that answers and checked against the token. OSError (the last one's) if none answers."""
    ca_hash, secret = parse_join_token(token, role=role)
    unreachable = None
    for address in server.split(","):
        host, _, port = address.rpartition(":")
        try:
            chain = presented_chain(host.strip("[]"), int(port), timeout)
        except OSError as e:
            unreachable = e
            continue
        for der in chain:
            if hashlib.sha256(der).hexdigest() == ca_hash:
                return ClientConfig(server=server, ca=ssl.DER_cert_to_PEM_cert(der), token=secret)
        raise JoinError(f"{address} did not present the CA the token pins ({ca_hash[:12]}...): "
                        f"wrong server, or a stale token")
    raise unreachable
