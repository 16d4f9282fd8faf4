"""Service account tokens: the shape the controller writes, the API server reads, pods mount.

A token is `cox-sa:<namespace>:<secret name>:<random>` and lives in a Secret of
type kubernetes.io/service-account-token (controllers/serviceaccount.py writes
it; apiserver/auth.py authenticates it; admission mounts it into pods at
MOUNT_PATH). Naming the Secret in the token lets the API server find it with
one cache lookup and compare the whole token in constant time; deleting the
Secret or the account revokes it at once, with no signing key to share.
"""
import base64
import secrets as random_secrets

from google.protobuf.message import Message

DEFAULT_ACCOUNT = "default"
TOKEN_TYPE = "kubernetes.io/service-account-token"
NAME_ANNOTATION = "kubernetes.io/service-account.name"
UID_ANNOTATION = "kubernetes.io/service-account.uid"
TOKEN_PREFIX = "cox-sa"
MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


def token_secret_name(account: str) -> str:
    return f"{account}-token"


def make_token(namespace: str, secret_name: str) -> str:
    """A bearer token that names the Secret holding it: cox-sa:<namespace>:<secret>:<random>."""
    random_part = base64.urlsafe_b64encode(random_secrets.token_bytes(32)).decode().rstrip("=")
    return f"{TOKEN_PREFIX}:{namespace}:{secret_name}:{random_part}"


def parse_token(token: str) -> tuple[str, str] | None:
    """(namespace, secret name) of a service account token, or None if it is not one."""
    parts = token.split(":")
    if len(parts) != 4 or parts[0] != TOKEN_PREFIX or not all(parts[1:]):
        return None
    return parts[1], parts[2]


def token_is_current(secret: Message, account: Message) -> bool:
    """Is `secret` a usable token Secret for this very account (not a deleted namesake's)?"""
    annotations = secret.metadata.annotations
    return (secret.type == TOKEN_TYPE and annotations.get(NAME_ANNOTATION) == account.metadata.name
            and annotations.get(UID_ANNOTATION) == account.metadata.uid and bool(secret.data.get("token"))
            and not secret.metadata.HasField("deletion_timestamp"))
