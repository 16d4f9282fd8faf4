"""May a user do this? Kubernetes' access reviews, answered by the same authorizer as every request.

`cox auth can-i` asks in Kubernetes' words (a verb, a resource such as
`pods`, `deployments.apps` or `pods/log`); this module turns them into the
attributes the authorizer judges real requests by, so the answer and what the
API then does cannot disagree. Asking about another user needs the admin
group, as a SubjectAccessReview needs more than a SelfSubjectAccessReview.
"""
from controlplane.api import kinds
from controlplane.api.v1 import cluster_pb2, rbac_pb2
from controlplane.apiserver import auth, errors
from controlplane.apiserver.authz import Attributes, Authorizer, Verdict, node, table

# (Kubernetes verb, subresource) → our verb
_VERBS = {("get", ""): "get", ("list", ""): "list", ("watch", ""): "watch", ("create", ""): "create",
          ("update", ""): "update", ("patch", ""): "update", ("delete", ""): "delete",
          ("deletecollection", ""): "deletecollection",
          ("update", "status"): "update_status", ("patch", "status"): "update_status",
          ("get", "log"): "log", ("create", "exec"): "exec", ("get", "exec"): "exec",
          ("create", "binding"): "bind", ("create", "token"): "token", ("create", "eviction"): "evict",
          ("create", "portforward"): "portforward", ("get", "portforward"): "portforward",
          ("create", "attach"): "attach", ("get", "attach"): "attach", ("get", "proxyrules"): "proxyrules"}


def attributes(request: cluster_pb2.AccessReviewRequest, user: auth.User) -> Attributes:
    try:
        kind, subresource = kinds.resolve_resource(request.resource)
    except ValueError as e:
        raise errors.invalid(f"resource: {e}") from None
    subresource = request.subresource or subresource
    verb = _VERBS.get((request.verb, subresource))
    if verb is None:
        raise errors.invalid(f'verb: "{request.verb}"{f" on {subresource}" if subresource else ""} is not a '
                             f"request this server serves")
    namespace = (request.namespace or "default") if kind.namespaced else ""
    return Attributes(user, verb, kind.name, namespace, request.name)


def review(request: cluster_pb2.AccessReviewRequest, *, caller: auth.User,
           authorizer: Authorizer) -> cluster_pb2.AccessReviewResponse:
    user = caller
    if request.user:
        if auth.ADMIN_GROUP not in caller.groups:
            raise errors.forbidden(f'User "{caller.name}" may not ask what another user may do')
        user = auth.User(request.user, tuple(request.groups))
    decision = authorizer.authorize(attributes(request, user))
    return cluster_pb2.AccessReviewResponse(allowed=decision.verdict is Verdict.ALLOW, reason=decision.reason)


def rules(namespace: str, *, caller: auth.User, authorizer: Authorizer) -> tuple[list[rbac_pb2.PolicyRule], bool]:
    """What the caller may do in `namespace` as rules (SelfSubjectRulesReview, `kubectl auth can-i --list`),
    and whether the list is incomplete.

    The same sources as a request's authorization, in the chain's order: the admin group holds
    everything, a join token only its credential request; a node's own rights depend on which pods are
    bound to it, which rules cannot say, so its list is marked incomplete; then the RBAC rules bound to
    the caller cluster-wide and in the namespace.
    """
    if auth.ADMIN_GROUP in caller.groups:
        return [rbac_pb2.PolicyRule(verbs=["*"], api_groups=["*"], resources=["*"]),
                rbac_pb2.PolicyRule(verbs=["*"], non_resource_ur_ls=["*"])], False
    if auth.BOOTSTRAP_GROUP in caller.groups:
        request = kinds.KINDS[table.CREDENTIAL_REQUEST_KIND]
        return [rbac_pb2.PolicyRule(verbs=["create"], api_groups=[request.group], resources=[request.plural])], False
    held = authorizer.rbac.holdings(caller).rules_in(namespace)
    return list(held), node.node_of(caller) is not None
