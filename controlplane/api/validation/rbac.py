"""Roles, ClusterRoles and their bindings: Kubernetes' rules for what an RBAC object may say."""
from controlplane.api import names
from controlplane.api.errors import FieldError
from controlplane.api.validation import meta
from controlplane.api.validation.common import Errors, immutable, one_of

RBAC_GROUP = "rbac.authorization.k8s.io"
SUBJECT_KINDS = ("User", "Group", "ServiceAccount")


def _rules(rules, *, cluster: bool) -> Errors:
    for index, rule in enumerate(rules):
        path = f"rules[{index}]"
        if not rule.verbs:
            yield FieldError(f"{path}.verbs", "required")
        if rule.non_resource_ur_ls:
            if not cluster:
                yield FieldError(f"{path}.nonResourceURLs", "namespaced rules cannot apply to non-resource URLs")
            if rule.resources or rule.api_groups:
                yield FieldError(f"{path}.nonResourceURLs", "rules cannot apply to both resources and "
                                                            "non-resource URLs")
        elif not rule.resources:
            yield FieldError(f"{path}.resources", "resource rules must supply at least one resource")
        elif not rule.api_groups:
            yield FieldError(f"{path}.apiGroups", "resource rules must supply at least one api group")


def validate_role(role) -> Errors:
    yield from meta.object_meta(role, names.path_segment_name)
    yield from _rules(role.rules, cluster=False)


def validate_cluster_role(role) -> Errors:
    yield from meta.object_meta(role, names.path_segment_name)
    yield from _rules(role.rules, cluster=True)


def _binding(binding, *, cluster: bool) -> Errors:
    yield from meta.object_meta(binding, names.path_segment_name)
    ref = binding.role_ref
    if ref.api_group != RBAC_GROUP:
        yield FieldError("roleRef.apiGroup", f'must be "{RBAC_GROUP}"')
    yield from one_of("roleRef.kind", ref.kind, ("ClusterRole",) if cluster else ("Role", "ClusterRole"),
                      required=True)
    if not ref.name:
        yield FieldError("roleRef.name", "required")
    for index, subject in enumerate(binding.subjects):
        path = f"subjects[{index}]"
        yield from one_of(f"{path}.kind", subject.kind, SUBJECT_KINDS, required=True)
        if not subject.name:
            yield FieldError(f"{path}.name", "required")
        if subject.kind == "ServiceAccount":
            if subject.api_group:
                yield FieldError(f"{path}.apiGroup", 'must be "" for a ServiceAccount')
            if cluster and not subject.namespace:
                yield FieldError(f"{path}.namespace", "required")
        elif subject.kind in ("User", "Group") and subject.api_group != RBAC_GROUP:
            yield FieldError(f"{path}.apiGroup", f'must be "{RBAC_GROUP}"')


def validate_role_binding(binding) -> Errors:
    yield from _binding(binding, cluster=False)


def validate_cluster_role_binding(binding) -> Errors:
    yield from _binding(binding, cluster=True)


def binding_update_rules(new, old) -> Errors:
    yield from immutable("roleRef", new.role_ref, old.role_ref)
