"""The fixed rules, before RBAC: the admin group may do everything (it can never be locked out, as
Kubernetes' privileged-group authorizer), and a join token's holder may only ask for a node
credential (whatever a binding says). Anyone else: no opinion, RBAC decides.
"""
from controlplane.apiserver import auth
from controlplane.apiserver.authz.attributes import ALLOW, NO_OPINION, Attributes, Decision, deny

CREDENTIAL_REQUEST_KIND = "NodeCredentialRequest"
_JOIN_TOKEN_ONLY = "the join token may only ask for a node credential (create nodecredentialrequests)"


def decide(attrs: Attributes) -> Decision:
    groups = attrs.user.groups
    if auth.ADMIN_GROUP in groups:
        return ALLOW
    if auth.BOOTSTRAP_GROUP in groups:
        if attrs.kind == CREDENTIAL_REQUEST_KIND and attrs.verb == "create":
            return ALLOW
        return deny(_JOIN_TOKEN_ONLY)
    return NO_OPINION


def decide_url(user: auth.User) -> Decision:
    """The fixed rules for a non-resource URL: the admin group may; the join token may not."""
    if auth.ADMIN_GROUP in user.groups:
        return ALLOW
    if auth.BOOTSTRAP_GROUP in user.groups:
        return deny(_JOIN_TOKEN_ONLY)
    return NO_OPINION
