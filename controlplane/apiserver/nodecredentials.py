"""Node credentials: how a node gets an identity of its own, and how the server knows it again.

The join token every agent holds only lets its holder ask for a credential
(group system:bootstrappers). The agent asks with a NodeCredentialRequest
naming its node; the server approves it at once or refuses it, mints a bearer
token for user system:node:<name> in group system:nodes, shows the token once
in the create response and stores only its hash. From then on the agent uses
that token, and asks again, as the node itself, before it expires.

Approval (`approval`, pure): a node may renew only its own credential; the
join token's holder gets a credential for a node name unless another live
node holds that name with a valid credential of its own (its Lease is fresh).
A token is valid while its request is the newest approved one of its node and
has not expired, so a renewal retires the previous token, and deleting a
node's requests revokes it at once. Like service account tokens
(api/serviceaccounts.py), a token names its request, so checking it is one
watch-cache lookup and a constant-time hash comparison.
"""
import dataclasses
import hmac
import time

from google.protobuf.timestamp_pb2 import Timestamp

from controlplane.api import nodeidentity
from controlplane.api.v1 import identity_pb2
from controlplane.api.wellknown import NODE_LEASE_NAMESPACE
from controlplane.apiserver import auth, errors
from controlplane.apiserver.admission import AdmissionPlugin
from controlplane.apiserver.authz.node import node_of

BOOTSTRAP_REASON = "AutoApprovedBootstrap"
RENEWAL_REASON = "AutoApprovedRenewal"
ADMIN_REASON = "ApprovedByAdmin"


def node_user(node_name: str) -> auth.User:
    return auth.User(nodeidentity.user_name(node_name), (auth.NODES_GROUP,))


@dataclasses.dataclass(frozen=True)
class Approval:
    reason: str = ""     # the Approved condition's reason, when approved
    refusal: str = ""    # why not, when refused


def approval(*, requester: auth.User, node_name: str, held_by_live_node: bool) -> Approval:
    """May `requester` have a credential for `node_name`?

    held_by_live_node: another credential of that node is valid and its Lease is fresh.
    """
    if auth.ADMIN_GROUP in requester.groups:
        return Approval(reason=ADMIN_REASON)
    own = node_of(requester)
    if own is not None:
        if own == node_name:
            return Approval(reason=RENEWAL_REASON)
        return Approval(refusal=f'node "{own}" may only renew its own credential, not node "{node_name}"\'s')
    if auth.BOOTSTRAP_GROUP in requester.groups:
        if held_by_live_node:
            return Approval(refusal=f'node name "{node_name}" is held by a live node with a credential of its '
                                    f'own; delete that node\'s nodecredentialrequests to hand the name over')
        return Approval(reason=BOOTSTRAP_REASON)
    return Approval(refusal=f'user "{requester.name}" may not ask for node credentials')


class NodeCredentials:
    """The server's view of node credentials: which token is each node's current one.

    Derived from the NodeCredentialRequest watch cache, recomputed only when
    that cache changes, so authenticating a node costs dictionary lookups.
    """

    def __init__(self, requests_cache, leases_cache, *,
                 ttl_seconds: int = nodeidentity.DEFAULT_CREDENTIAL_SECONDS, clock=time.time):
        self._requests = requests_cache
        self._leases = leases_cache
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._newest: dict[str, identity_pb2.NodeCredentialRequest] = {}
        self._seen = -1

    def now(self) -> float:
        return self._clock()

    def current(self, node_name: str) -> identity_pb2.NodeCredentialRequest | None:
        """The node's newest approved request, if it has not expired."""
        if self._seen != self._requests.changes:
            self._newest = nodeidentity.newest_approved(cached.obj for cached in self._requests.list())
            self._seen = self._requests.changes
        request = self._newest.get(node_name)
        if request is None or request.status.expiration_timestamp.seconds <= self._clock():
            return None
        return request

    def authenticate(self, token: str) -> auth.User | None:
        name = nodeidentity.parse_token(token)
        if name is None:
            return None
        cached = self._requests.get(self._requests.kind.key("", name))
        if cached is None:
            return None
        current = self.current(cached.obj.spec.node_name)
        if current is None or current.metadata.name != name:
            return None
        if not hmac.compare_digest(current.status.token_hash, nodeidentity.token_hash(token)):
            return None
        return node_user(current.spec.node_name)

    def live(self, node_name: str) -> bool:
        """Is the node's Lease fresh (renewed within its duration)?"""
        cached = self._leases.get(self._leases.kind.key(NODE_LEASE_NAMESPACE, node_name))
        if cached is None:
            return False
        spec = cached.obj.spec
        renewed = spec.renew_time.seconds + spec.renew_time.nanos / 1e9
        return renewed + (spec.lease_duration_seconds or 0) > self._clock()

    def stale(self, *, grace_seconds: float) -> list[str]:
        """Requests that no longer matter: expired, or superseded more than `grace_seconds` ago."""
        now = self._clock()
        found = []
        for cached in self._requests.list():
            request = cached.obj
            current = self.current(request.spec.node_name)
            expired = request.status.expiration_timestamp.seconds <= now
            superseded = (current is not None and current.metadata.name != request.metadata.name
                          and current.metadata.creation_timestamp.seconds + grace_seconds <= now)
            if expired or superseded or not nodeidentity.approved(request):
                found.append(request.metadata.name)
        return found


class CredentialIssuer(AdmissionPlugin):
    """Admission for NodeCredentialRequest: approve or refuse, and mint the token."""

    def __init__(self, credentials: NodeCredentials):
        self._credentials = credentials

    async def admit_create(self, request: identity_pb2.NodeCredentialRequest, *, dry_run: bool = False) -> None:
        requester = auth.current_user.get()
        node = request.spec.node_name
        if not node:
            return      # validation names the missing field
        held = self._credentials.current(node) is not None and self._credentials.live(node)
        verdict = approval(requester=requester, node_name=node, held_by_live_node=held)
        if verdict.refusal:
            raise errors.forbidden(verdict.refusal)
        request.spec.username = requester.name
        request.spec.ClearField("groups")
        request.spec.groups.extend(requester.groups)
        lifetime = self._credentials.ttl_seconds
        if request.spec.HasField("expiration_seconds"):
            lifetime = min(lifetime, request.spec.expiration_seconds)
        now = int(self._credentials.now())
        status = request.status
        status.Clear()
        condition = status.conditions.add(type=nodeidentity.APPROVED, status="True", reason=verdict.reason,
                                          message=f"approved for {requester.name}")
        condition.last_update_time.CopyFrom(Timestamp(seconds=now))
        status.expiration_timestamp.CopyFrom(Timestamp(seconds=now + lifetime))
        if not dry_run:
            status.token = nodeidentity.make_token(request.metadata.name)
            status.token_hash = nodeidentity.token_hash(status.token)
