"""Who is calling (authentication), and the interceptor that makes every call say so.

Callers present a bearer token in the `authorization` metadata. Static tokens
live in DATA/tokens, in Kubernetes' static token file format
(`token,user,uid,"g1,g2"`): the admin's (group system:masters), the control
plane components', and the join token's secret (group system:bootstrappers,
which may only ask for a node credential). Nodes then use credentials of
their own (apiserver/nodecredentials.py), and service accounts their tokens
(api/serviceaccounts.py), each checked against the watch cache. What a user
may do is the authorizers' business (apiserver/authz/).
"""
import contextvars
import csv
import dataclasses
import hmac
import inspect
import io
import os
import pathlib
import secrets

import grpc

from controlplane.api import nodeidentity, serviceaccounts

ADMIN_GROUP = "system:masters"
NODES_GROUP = nodeidentity.NODES_GROUP
BOOTSTRAP_GROUP = "system:bootstrappers"
SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()


class TokenFile:
    """The static tokens, read once at start."""

    def __init__(self, path: pathlib.Path):
        self._path = path
        self._users: dict[str, User] = {}
        if path.exists():
            for row in csv.reader(io.StringIO(path.read_text())):
                if len(row) >= 2 and not row[0].startswith("#"):
                    groups = tuple(g for g in (row[3].split(",") if len(row) > 3 else []) if g)
                    self._users[row[0]] = User(row[1], groups)

    def add(self, user: User) -> str:
        """Create, persist and return a new token for `user`."""
        token = secrets.token_hex(24)
        self._users[token] = user
        with self._path.open("a") as f:
            csv.writer(f).writerow([token, user.name, user.name, ",".join(user.groups)])
        self._path.chmod(0o600)
        return token

    def rename(self, old_name: str, user: User) -> str | None:
        """Give the token of user `old_name` to `user` instead (an upgrade changing who a token is); its token."""
        token = self.token_for(old_name)
        if token is None or self._users[token] == user:
            return token
        self._users[token] = user
        rows = [[t, u.name, u.name, ",".join(u.groups)] for t, u in self._users.items()]
        text = io.StringIO()
        csv.writer(text).writerows(rows)
        fd = os.open(self._path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text.getvalue())
        os.replace(self._path.with_suffix(".tmp"), self._path)
        return token

    def token_for(self, user_name: str) -> str | None:
        return next((t for t, u in self._users.items() if u.name == user_name), None)

    def authenticate(self, token: str) -> User | None:
        # Compare against every token in constant time so timing tells nothing.
        found = None
        for known, user in self._users.items():
            if hmac.compare_digest(known, token):
                found = user
        return found


class ServiceAccountTokens:
    """Tokens of service accounts, checked against the Secret each names (in the watch cache)."""

    def __init__(self, secrets_cache, accounts_cache):
        self._secrets = secrets_cache
        self._accounts = accounts_cache

    def authenticate(self, token: str) -> User | None:
        named = serviceaccounts.parse_token(token)
        if named is None:
            return None
        namespace, secret_name = named
        secret = self._secrets.get(self._secrets.kind.key(namespace, secret_name))
        if secret is None:
            return None
        account_name = secret.obj.metadata.annotations.get(serviceaccounts.NAME_ANNOTATION, "")
        account = self._accounts.get(self._accounts.kind.key(namespace, account_name))
        if account is None or not serviceaccounts.token_is_current(secret.obj, account.obj):
            return None
        if not hmac.compare_digest(secret.obj.data["token"], token.encode()):
            return None
        return User(f"system:serviceaccount:{namespace}:{account_name}",
                    (SERVICE_ACCOUNTS_GROUP, f"{SERVICE_ACCOUNTS_GROUP}:{namespace}"))


def bearer_token(metadata) -> str | None:
    """The caller's token; None for none, or for one that is no token at all (non-ASCII)."""
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            token = value[len("Bearer "):].strip()
            return token if token.isascii() else None
    return None


# Set by the interceptor for the duration of one call; handlers authorize with it.
current_user: contextvars.ContextVar[User] = contextvars.ContextVar("current_user")

# ServerBootstrap checks the server token itself (server.py): a joining server is no user yet.
_ANONYMOUS_PREFIXES = ("/grpc.health.v1.Health/", "/coxswain.v1.Cluster/ServerBootstrap")


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Authenticate every call but health checks and a server's bootstrap; reject anonymous ones.

    The handler run as a user is made once per (method, user) and kept: a client repeats the same few
    calls, and wrapping a handler anew costs as much as authenticating. The token is still checked on
    every call, so a revoked one is refused on its next call; only what it maps to is reused.
    """

    WRAPPED_SIZE = 8192

    def __init__(self, authenticators):
        self._authenticators = tuple(authenticators)  # each: authenticate(token) -> User | None
        self._wrapped: dict[tuple[str, User | None], tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def authenticate(self, token: str | None) -> User | None:
        for authenticator in self._authenticators if token else ():
            user = authenticator.authenticate(token)
            if user is not None:
                return user
        return None

    async def intercept_service(self, continuation, details):
        handler = await continuation(details)
        if details.method.startswith(_ANONYMOUS_PREFIXES):
            return handler
        user = self.authenticate(bearer_token(details.invocation_metadata))
        if handler is None:
            # Unknown methods too are refused to the anonymous, so what exists cannot be probed.
            return None if user else _UNKNOWN_METHOD_REFUSED
        key = (details.method, user)
        kept = self._wrapped.get(key)
        if kept is not None and kept[0] is handler:
            return kept[1]
        if len(self._wrapped) >= self.WRAPPED_SIZE:
            self._wrapped.clear()
        wrapped = _wrap(handler, user)
        self._wrapped[key] = (handler, wrapped)
        return wrapped


def _wrap(handler: grpc.RpcMethodHandler, user: User | None) -> grpc.RpcMethodHandler:
    """The same handler, run as `user`, or refusing with UNAUTHENTICATED if None."""

    def wrap(behavior):
        if behavior is None:
            return None
        if inspect.isasyncgenfunction(behavior):
            async def stream(request, context):
                if user is None:
                    await context.abort(grpc.StatusCode.UNAUTHENTICATED, _NO_TOKEN)
                current_user.set(user)
                async for item in behavior(request, context):
                    yield item
            return stream

        async def unary(request, context):
            if user is None:
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, _NO_TOKEN)
            current_user.set(user)
            return await behavior(request, context)
        return unary

    return handler._replace(unary_unary=wrap(handler.unary_unary), unary_stream=wrap(handler.unary_stream),
                            stream_unary=wrap(handler.stream_unary), stream_stream=wrap(handler.stream_stream))


_NO_TOKEN = "a valid bearer token is required (metadata 'authorization: Bearer <token>')"


async def _refuse(_requests, context):
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, _NO_TOKEN)

# A stream-stream handler reads nothing before it answers, so it fits a call of any shape.
_UNKNOWN_METHOD_REFUSED = grpc.stream_stream_rpc_method_handler(_refuse)
