"""The requests that are not objects: SelfSubject{Access,Rules}Review, serviceaccounts/token, pods/eviction.

Pure: their Kubernetes JSON <-> the messages the API server's own calls take
(`accessreview.review`, the TokenRequest the gRPC Cluster service serves, a
pod's DeleteOptions). `kubectl auth can-i [--list]`, `kubectl create token` and
`kubectl drain` send these.
"""
from controlplane.api.errors import FieldError, InvalidError
from controlplane.api.v1 import cluster_pb2, rbac_pb2

SSAR = "SelfSubjectAccessReview"
SSRR = "SelfSubjectRulesReview"
AUTHORIZATION_API = "authorization.k8s.io/v1"
TOKEN_REQUEST_API = "authentication.k8s.io/v1"


def _object(data, what: str) -> dict:
    if not isinstance(data, dict):
        raise InvalidError(what, "", [FieldError("", "must be an object")])
    return data


def access_review_request(data) -> cluster_pb2.AccessReviewRequest | None:
    """The review a SelfSubjectAccessReview asks for; None for a non-resource URL (never allowed here)."""
    spec = _object(_object(data, SSAR).get("spec") or {}, SSAR)
    attributes = spec.get("resourceAttributes")
    if attributes is None:
        if spec.get("nonResourceAttributes") is not None:
            return None
        raise InvalidError(SSAR, "", [FieldError("spec.resourceAttributes", "required")])
    attributes = _object(attributes, SSAR)
    resource = attributes.get("resource") or ""
    if attributes.get("group"):
        resource += "." + attributes["group"]
    return cluster_pb2.AccessReviewRequest(verb=attributes.get("verb") or "", resource=resource,
                                           subresource=attributes.get("subresource") or "",
                                           namespace=attributes.get("namespace") or "",
                                           name=attributes.get("name") or "")


def access_review_json(data: dict, answer: cluster_pb2.AccessReviewResponse | None) -> dict:
    allowed = bool(answer and answer.allowed)
    reason = answer.reason if answer else "non-resource URLs are not authorized by this server"
    return {"apiVersion": AUTHORIZATION_API, "kind": SSAR, "metadata": {}, "spec": data.get("spec") or {},
            "status": {"allowed": allowed, **({"reason": reason} if reason else {})}}


def token_request(data, *, namespace: str, name: str) -> cluster_pb2.TokenRequest:
    spec = _object(_object(data or {}, "TokenRequest").get("spec") or {}, "TokenRequest")
    seconds = spec.get("expirationSeconds") or 0
    if not isinstance(seconds, int):
        raise InvalidError("TokenRequest", name, [FieldError("spec.expirationSeconds", "must be an integer")])
    if spec.get("boundObjectRef"):
        raise InvalidError("TokenRequest", name, [FieldError("spec.boundObjectRef", "unknown field")])
    return cluster_pb2.TokenRequest(namespace=namespace, service_account=name, expiration_seconds=seconds)


def token_json(data, answer: cluster_pb2.TokenResponse) -> dict:
    spec = (data or {}).get("spec") or {}
    return {"apiVersion": TOKEN_REQUEST_API, "kind": "TokenRequest", "metadata": {}, "spec": spec,
            "status": {"token": answer.token, "expirationTimestamp": answer.expiration_timestamp.ToJsonString()}}


def rules_review_namespace(data) -> str:
    """The namespace a SelfSubjectRulesReview asks about (required, as in Kubernetes)."""
    spec = _object(_object(data, SSRR).get("spec") or {}, SSRR)
    namespace = spec.get("namespace")
    if not namespace or not isinstance(namespace, str):
        raise InvalidError(SSRR, "", [FieldError("spec.namespace", "required")])
    return namespace


def rules_review_json(data: dict, rules: list[rbac_pb2.PolicyRule], *, incomplete: bool) -> dict:
    """The answer: resource rules and non-resource rules, as RBAC's rules are split in Kubernetes."""
    resource_rules = [{"verbs": list(r.verbs), "apiGroups": list(r.api_groups), "resources": list(r.resources),
                       **({"resourceNames": list(r.resource_names)} if r.resource_names else {})}
                      for r in rules if r.resources]
    url_rules = [{"verbs": list(r.verbs), "nonResourceURLs": list(r.non_resource_ur_ls)}
                 for r in rules if r.non_resource_ur_ls]
    status = {"resourceRules": resource_rules, "nonResourceRules": url_rules, "incomplete": incomplete}
    if incomplete:
        status["evaluationError"] = "a node's rights depend on the pods bound to it; rules cannot list them"
    return {"apiVersion": AUTHORIZATION_API, "kind": SSRR, "metadata": {}, "spec": data.get("spec") or {},
            "status": status}
