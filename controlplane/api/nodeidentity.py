"""A node's identity: its user name, its credential tokens, and which of its requests is current.

Rules the API server (apiserver/nodecredentials.py, apiserver/authz/node.py)
and the CLI (`cox describe node`) share, kept once as Kubernetes keeps its
pod rules in one package.
"""
import base64
import hashlib
import secrets

from controlplane.api.v1 import identity_pb2

NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"
TOKEN_PREFIX = "cox-node"
APPROVED = "Approved"
DEFAULT_CREDENTIAL_SECONDS = 7 * 24 * 3600   # a week; an agent renews after two thirds of it


def user_name(node_name: str) -> str:
    return NODE_USER_PREFIX + node_name


def make_token(request_name: str) -> str:
    """A bearer token naming its request: cox-node:<request name>:<random>."""
    random_part = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"{TOKEN_PREFIX}:{request_name}:{random_part}"


def parse_token(token: str) -> str | None:
    """The request a node token names, or None if it is not one."""
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def approved(request: identity_pb2.NodeCredentialRequest) -> bool:
    return any(c.type == APPROVED and c.status == "True" for c in request.status.conditions)


def _order(request: identity_pb2.NodeCredentialRequest) -> tuple[int, int, int]:
    created = request.metadata.creation_timestamp
    return created.seconds, created.nanos, int(request.metadata.resource_version or 0)


def newest_approved(requests) -> dict[str, identity_pb2.NodeCredentialRequest]:
    """Node name → its newest approved request: the one whose token is the node's credential."""
    newest: dict[str, identity_pb2.NodeCredentialRequest] = {}
    for request in requests:
        node = request.spec.node_name
        if approved(request) and (node not in newest or _order(request) > _order(newest[node])):
            newest[node] = request
    return newest
