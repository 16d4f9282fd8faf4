"""Joining a cluster with only its address and a join token (the k3s model).

A join token is `K10<sha256 of the CA certificate>::node:<secret>`. The agent
connects once without verifying, takes the certificate chain the server
presents, and keeps the certificate whose hash the token pins: a man in the
middle cannot present a CA with that hash. From then on it verifies the server
against that CA and authenticates with the secret.
"""
import hashlib
import socket
import ssl

from controlplane.client.config import ClientConfig

_PREFIX, _SEPARATOR = "K10", "::node:"


class JoinError(Exception):
    pass


def make_join_token(ca_der_sha256: str, secret: str) -> str:
    return f"{_PREFIX}{ca_der_sha256}{_SEPARATOR}{secret}"


def parse_join_token(token: str) -> tuple[str, str]:
    """(ca_hash, secret); JoinError if it is not a join token."""
    if not token.startswith(_PREFIX) or _SEPARATOR not in token:
        raise JoinError(f"not a join token (expected {_PREFIX}<hash>{_SEPARATOR}<secret>)")
    ca_hash, secret = token[len(_PREFIX):].split(_SEPARATOR, 1)
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


def join_config(server: str, token: str, *, timeout: float = 10.0) -> ClientConfig:
    """A client config for `server`, its CA fetched and checked against the token."""
    ca_hash, secret = parse_join_token(token)
    host, _, port = server.rpartition(":")
    for der in presented_chain(host.strip("[]"), int(port), timeout):
        if hashlib.sha256(der).hexdigest() == ca_hash:
            return ClientConfig(server=server, ca=ssl.DER_cert_to_PEM_cert(der), token=secret)
    raise JoinError(f"{server} did not present the CA the join token pins ({ca_hash[:12]}...): "
                    f"wrong server, or a stale token")
