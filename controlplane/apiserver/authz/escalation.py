"""RBAC escalation prevention: one grants only what one holds.

Kubernetes' rule, as an admission plugin on the four RBAC kinds: creating or
changing a Role or ClusterRole needs every right it gives (or the `escalate`
verb on roles); binding a role needs every right the role gives in that
namespace (or the `bind` verb on that role). Otherwise anyone who may write
RBAC objects could write themselves cluster-admin. The admin group holds
everything.
"""
from google.protobuf.message import Message

from controlplane.apiserver import auth, errors
from controlplane.apiserver.admission import AdmissionPlugin
from controlplane.apiserver.authz.rbac import RBAC, Request, rule_allows, rules_cover

RBAC_GROUP = "rbac.authorization.k8s.io"
_ROLE_RESOURCES = {"Role": "roles", "ClusterRole": "clusterroles"}


def _rule_text(rule) -> str:
    if rule.non_resource_ur_ls:
        return f"{list(rule.verbs)} on non-resource URLs {list(rule.non_resource_ur_ls)}"
    names = f" named {list(rule.resource_names)}" if rule.resource_names else ""
    return f"{list(rule.verbs)} on {list(rule.resources)} in API groups {list(rule.api_groups)}{names}"


class RBACEscalation(AdmissionPlugin):
    def __init__(self, rbac: RBAC):
        self._rbac = rbac

    async def admit_create(self, obj: Message, *, dry_run: bool = False) -> None:
        self._check(obj)

    async def admit_update(self, new: Message, old: Message, *, dry_run: bool = False) -> None:
        self._check(new)

    def _may(self, user, namespace: str, verb: str, resource: str, name: str) -> bool:
        request = Request(verb, RBAC_GROUP, resource, name)
        return any(rule_allows(rule, request) for rule in self._rbac.holdings(user).rules_in(namespace))

    def _check(self, obj: Message) -> None:
        user = auth.current_user.get(None)
        if user is None or auth.ADMIN_GROUP in user.groups:   # None: the server itself (its default policy)
            return
        kind = obj.DESCRIPTOR.name
        namespace = obj.metadata.namespace if kind in ("Role", "RoleBinding") else ""
        held = self._rbac.holdings(user).rules_in(namespace)
        if kind in _ROLE_RESOURCES:
            if self._may(user, namespace, "escalate", _ROLE_RESOURCES[kind], obj.metadata.name):
                return
            granted, what = list(obj.rules), f"{kind} {obj.metadata.name}"
        else:
            ref = obj.role_ref
            if self._may(user, namespace, "bind", _ROLE_RESOURCES.get(ref.kind, ""), ref.name):
                return
            granted, what = self._rbac.role_rules(ref, namespace), f"a binding to {ref.kind} {ref.name}"
        if namespace:   # a non-resource URL rule grants nothing through a namespaced binding
            granted = [rule for rule in granted if not rule.non_resource_ur_ls]
        missing = [rule for rule in granted if not rules_cover(held, rule)]
        if missing:
            raise errors.forbidden(f'User "{user.name}" may not create {what}: it would grant rights the user '
                                   f'does not hold ({_rule_text(missing[0])}); holding them, or the '
                                   f'{"escalate" if kind in _ROLE_RESOURCES else "bind"} verb, is required')
