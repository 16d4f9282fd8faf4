"""What a joining server needs from the cluster, sealed with the server token (k3s' bootstrap data).

Every server of one cluster must share the CA (clients and agents trust it),
the signing key (tokens one server signs work on all), the encryption
configuration (Secrets one server wrote are readable by all) and the token
file (the admin's, the components' and the join token's secrets). The first
server seals those files into one value at BOOTSTRAP_KEY in the datastore,
encrypted with a key derived from the server token's secret (scrypt, then
AES-GCM, as k3s derives its bootstrap key from the token); a joining server
gets that value through the first server's Cluster/ServerBootstrap call,
presenting the secret, and can open it only with the same secret. The value
lives outside /registry/, so no watch or list of the API ever sees it.

DATA/server-token holds the server token, K10<CA hash>::server:<secret>: the
hash lets a joining server pin the CA as agents do (client/join.py).
"""
import asyncio
import base64
import dataclasses
import hmac
import json
import logging
import os
import pathlib
import secrets

import grpc
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from controlplane.apiserver import tls
from controlplane.client import Client
from controlplane.client.errors import ApiError
from controlplane.client.join import SERVER, JoinError, join_config, make_join_token, parse_join_token
from controlplane.store import Store

log = logging.getLogger(__name__)

BOOTSTRAP_KEY = "/bootstrap/server"
TOKEN_FILE = "server-token"
# Relative to the data directory: what every server of a cluster shares.
FILES = ("tls/ca.crt", "tls/ca.key", "tls/signing.key", "tls/encryption.yaml", "tokens")
_FORMAT = "cox-bootstrap-v1"


class BootstrapError(Exception):
    """A server could not join: unreachable, not the cluster the token names, or the token refused."""


class WrongTokenError(BootstrapError):
    """The server token does not open the bootstrap data: it is not this cluster's."""


@dataclasses.dataclass(frozen=True)
class Joined:
    files: dict[str, bytes]       # relative path under the data directory -> content
    etcd_client_urls: list[str]   # the embedded etcd's members; empty if the cluster runs none


def _key(secret: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=2 ** 14, r=8, p=1).derive(secret.encode())


def seal(files: dict[str, bytes], secret: str) -> bytes:
    """`files` (relative path -> content) encrypted under a key derived from `secret`."""
    salt, nonce = os.urandom(16), os.urandom(12)
    plain = json.dumps({path: base64.b64encode(data).decode() for path, data in sorted(files.items())}).encode()
    sealed = AESGCM(_key(secret, salt)).encrypt(nonce, plain, _FORMAT.encode())
    return json.dumps({"format": _FORMAT, "salt": base64.b64encode(salt).decode(),
                       "nonce": base64.b64encode(nonce).decode(),
                       "data": base64.b64encode(sealed).decode()}).encode()


def unseal(blob: bytes, secret: str) -> dict[str, bytes]:
    """The files `seal` sealed; WrongTokenError if `secret` is not the one they were sealed with."""
    try:
        outer = json.loads(blob)
        salt, nonce, data = (base64.b64decode(outer[k]) for k in ("salt", "nonce", "data"))
        if outer["format"] != _FORMAT:
            raise ValueError(outer["format"])
    except (ValueError, KeyError, TypeError) as e:
        raise WrongTokenError(f"the cluster's bootstrap data is not in a format this server reads: {e}") from None
    try:
        plain = AESGCM(_key(secret, salt)).decrypt(nonce, data, _FORMAT.encode())
    except InvalidTag:
        raise WrongTokenError("the server token does not open the cluster's bootstrap data") from None
    return {path: base64.b64decode(text) for path, text in json.loads(plain).items()}


def local_files(data_dir: pathlib.Path) -> dict[str, bytes]:
    return {name: (data_dir / name).read_bytes() for name in FILES if (data_dir / name).exists()}


def write_files(data_dir: pathlib.Path, files: dict[str, bytes]) -> None:
    """Write the unsealed files under `data_dir`, each 0600 and whole (its directories 0700)."""
    for name, data in files.items():
        if name not in FILES:
            raise WrongTokenError(f"the cluster's bootstrap data names an unexpected file: {name}")
        path = data_dir / name
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.tmp")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(scratch, path)


def ensure_token(data_dir: pathlib.Path, ca_pem: bytes, *, given: str = "") -> str:
    """The server token in DATA/server-token, made on first start (from `given`'s secret if one is given)."""
    path = data_dir / TOKEN_FILE
    ca_hash = tls.ca_hash(ca_pem)
    if path.exists():
        token = path.read_text().strip()
        if given and not secret_matches(token, secret_of(given)):
            raise WrongTokenError(f"--token: not the server token this server already has ({path})")
        return token
    token = make_join_token(ca_hash, secret_of(given) if given else secrets.token_hex(24), role=SERVER)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def secret_of(token: str) -> str:
    """The secret of a server token; a bare secret (k3s accepts one for --token) is its own."""
    if not token.startswith("K10"):
        return token
    try:
        return parse_join_token(token, role=SERVER)[1]
    except JoinError as e:
        raise BootstrapError(f"--token: {e}") from None


async def publish(store: Store, data_dir: pathlib.Path, token: str) -> None:
    """Put this server's shared files in the datastore, sealed, unless they are there already.

    Another cluster's data (a secret that does not open it) is left alone: two
    clusters over one etcd is the operator's choice (tests do it), not ours to undo.
    """
    secret = secret_of(token)
    files = local_files(data_dir)
    current = await store.get(BOOTSTRAP_KEY)
    if current is not None:
        try:
            if unseal(current.value, secret) == files:
                return
        except WrongTokenError:
            log.warning("the datastore holds another cluster's bootstrap data; servers cannot join this one")
            return
    await store.put(BOOTSTRAP_KEY, seal(files, secret),
                    expect_mod_revision=current.mod_revision if current is not None else 0)


def secret_matches(token: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(secret_of(token).encode(), presented.encode())


async def fetch(server: str, token: str) -> Joined:
    """The cluster's bootstrap data from the server at `server` (host:port), which must present the CA
    the token pins and accept the token's secret. Writes nothing."""
    try:
        config = await asyncio.to_thread(join_config, server, token, role=SERVER)
        async with Client(config) as client:
            response = await client.server_bootstrap()
    except JoinError as e:
        raise BootstrapError(f"--token: {e}") from None
    except OSError as e:
        raise BootstrapError(f"--server: cannot reach {server}: {e}") from None
    except ApiError as e:
        flag = "--token" if e.code == grpc.StatusCode.UNAUTHENTICATED else "--server"
        raise BootstrapError(f"{flag}: {server} refused to bootstrap this server: {e.message}") from None
    files = unseal(response.sealed, config.token)
    if "tls/ca.crt" not in files or tls.ca_hash(files["tls/ca.crt"]) != parse_join_token(token, role=SERVER)[0]:
        raise WrongTokenError("--token: the cluster's bootstrap data holds another CA than the token pins")
    return Joined(files, list(response.etcd_client_urls))
