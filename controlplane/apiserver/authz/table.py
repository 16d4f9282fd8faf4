"""The fixed table for everyone but nodes, until RBAC replaces it (issue 11).

The admin group may do everything; a join token's holder may only ask for a
node credential; a service account may read its own namespace, Secrets
excepted. Anyone else: no opinion, which the chain turns into a refusal.
"""
from controlplane.apiserver import auth
from controlplane.apiserver.authz.attributes import ALLOW, NO_OPINION, READ_VERBS, Attributes, Decision, deny

CREDENTIAL_REQUEST_KIND = "NodeCredentialRequest"


def decide(attrs: Attributes) -> Decision:
    groups = attrs.user.groups
    if auth.ADMIN_GROUP in groups:
        return ALLOW
    if auth.BOOTSTRAP_GROUP in groups:
        if attrs.kind == CREDENTIAL_REQUEST_KIND and attrs.verb == "create":
            return ALLOW
        return deny("the join token may only ask for a node credential (create nodecredentialrequests)")
    if auth.SERVICE_ACCOUNTS_GROUP in groups:
        own = f"{auth.SERVICE_ACCOUNTS_GROUP}:{attrs.namespace}"
        if attrs.verb in READ_VERBS and attrs.kind != "Secret" and attrs.namespace and own in groups:
            return ALLOW
    return NO_OPINION
