"""Tokens the server signs: a person's credential, and bound service account tokens.

Both are `<kind>.<payload>.<mac>`: a JSON payload (who, until when) and an
HMAC-SHA256 over the kind and payload with the cluster's signing key
(DATA/tls/signing.key, made on first start, 0600; servers of one cluster
share it). Nothing is stored: a person's credential lasts until it expires,
as a client certificate would (`cox config new-user` mints one from the data
directory); a service account token also stops working when its account is
deleted, because it names the account's uid. The kind is part of what is
signed, so one kind of token cannot pass for the other.
"""
import base64
import hashlib
import hmac
import json
import os
import pathlib
import secrets
import time

from controlplane.apiserver import auth

USER_KIND = "cox-user"
SERVICE_ACCOUNT_KIND = "cox-sat"
KEY_FILE = "signing.key"
DEFAULT_SERVICE_ACCOUNT_SECONDS = 3600
DEFAULT_USER_SECONDS = 365 * 24 * 3600


def ensure_key(tls_dir: pathlib.Path) -> bytes:
    """The cluster's signing key, made on first use."""
    path = tls_dir / KEY_FILE
    if not path.exists():
        tls_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    return path.read_bytes()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, kind: str, payload: str) -> str:
    return _b64(hmac.new(key, f"{kind}.{payload}".encode(), hashlib.sha256).digest())


def sign(key: bytes, kind: str, claims: dict) -> str:
    payload = _b64(json.dumps(claims, sort_keys=True, separators=(",", ":")).encode())
    return f"{kind}.{payload}.{_mac(key, kind, payload)}"


def verify(key: bytes, token: str, *, now: float) -> tuple[str, dict] | None:
    """(kind, claims) of a token this key signed that has not expired; None otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] not in (USER_KIND, SERVICE_ACCOUNT_KIND):
        return None
    kind, payload, mac = parts
    if not hmac.compare_digest(mac, _mac(key, kind, payload)):
        return None
    try:
        claims = json.loads(_unb64(payload))
    except ValueError:
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
        return None
    return kind, claims


def user_token(key: bytes, name: str, groups: list[str], *, seconds: int = DEFAULT_USER_SECONDS) -> str:
    return sign(key, USER_KIND, {"sub": name, "groups": list(groups), "exp": int(time.time()) + seconds})


def service_account_token(key: bytes, account, *, seconds: int) -> tuple[str, int]:
    """A token for the ServiceAccount object `account`, and when it expires."""
    expires = int(time.time()) + seconds
    meta = account.metadata
    return sign(key, SERVICE_ACCOUNT_KIND, {"ns": meta.namespace, "sa": meta.name, "uid": meta.uid,
                                            "exp": expires}), expires


class SignedTokens:
    """The authenticator: a signed, unexpired token names its user (an account's must still exist)."""

    MEMO_SIZE = 4096

    def __init__(self, key: bytes, accounts_cache, *, clock=time.time):
        self._key = key
        self._accounts = accounts_cache
        self._clock = clock
        self._verified: dict[str, tuple[str, dict]] = {}   # token → its checked signature's (kind, claims)

    def _verify(self, token: str) -> tuple[str, dict] | None:
        """verify(), once per token: a client sends the same token on every call."""
        found = self._verified.get(token)
        now = self._clock()
        if found is not None:
            return found if found[1]["exp"] > now else None
        found = verify(self._key, token, now=now)
        if found is not None:
            if len(self._verified) >= self.MEMO_SIZE:
                self._verified.clear()
            self._verified[token] = found
        return found

    def authenticate(self, token: str) -> auth.User | None:
        if not token.startswith((USER_KIND + ".", SERVICE_ACCOUNT_KIND + ".")):
            return None
        verified = self._verify(token)
        if verified is None:
            return None
        kind, claims = verified
        if kind == USER_KIND:
            name, groups = claims.get("sub"), claims.get("groups", [])
            if not isinstance(name, str) or not name or not all(isinstance(g, str) for g in groups):
                return None
            return auth.User(name, tuple(groups))
        namespace, account = claims.get("ns", ""), claims.get("sa", "")
        cached = self._accounts.get(self._accounts.kind.key(namespace, account))
        if cached is None or cached.obj.metadata.uid != claims.get("uid"):
            return None
        return auth.User(f"system:serviceaccount:{namespace}:{account}",
                         (auth.SERVICE_ACCOUNTS_GROUP, f"{auth.SERVICE_ACCOUNTS_GROUP}:{namespace}"))
