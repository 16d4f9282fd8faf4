"""Role-based access control: Roles, ClusterRoles and their bindings, evaluated from the watch cache.

Kubernetes' RBAC authorizer in small. A request is allowed if a rule bound to
the user (by name, by one of its groups, or as a service account) covers it:
a ClusterRoleBinding's rules everywhere, a RoleBinding's in its namespace.
Rules are matched against the Kubernetes names of the request: the API group
and plural of its kind, a subresource for the verbs that are one
(`pods/status`, `pods/log`, `pods/exec`, `pods/binding`, `pods/proxyrules`), and the Kubernetes
verb. RBAC only allows: it never denies, so a request no rule covers gets no
opinion, and the chain refuses it.

Which rules a user holds is derived from the four watch caches and kept until
one of them changes, so an allowed request costs a few set lookups.
"""
import dataclasses
import itertools

from controlplane.api.kinds import KINDS
from controlplane.apiserver.auth import User
from controlplane.apiserver.authz.attributes import ALLOW, NO_OPINION, Attributes, Decision

ALL = "*"
AUTHENTICATED_GROUP = "system:authenticated"   # every authenticated user is in it
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"

# Our verbs → (Kubernetes verb, subresource).
REQUEST_VERBS = {
    "get": ("get", ""), "list": ("list", ""), "watch": ("watch", ""), "create": ("create", ""),
    "update": ("update", ""), "update_status": ("update", "status"), "delete": ("delete", ""),
    "bind": ("create", "binding"), "log": ("get", "log"), "exec": ("create", "exec"),
    "token": ("create", "token"), "evict": ("create", "eviction"), "portforward": ("create", "portforward"),
    "attach": ("create", "attach"), "proxyrules": ("get", "proxyrules"),
}


@dataclasses.dataclass(frozen=True)
class Request:
    """A request in RBAC's terms."""
    verb: str
    group: str
    resource: str       # "pods" or "pods/log"
    name: str


def request_of(attrs: Attributes) -> Request:
    verb, subresource = REQUEST_VERBS.get(attrs.verb, (attrs.verb, ""))
    kind = KINDS[attrs.kind]
    resource = f"{kind.plural}/{subresource}" if subresource else kind.plural
    return Request(verb, kind.group, resource, attrs.name)


def _resource_matches(rule_resource: str, resource: str) -> bool:
    if rule_resource in (ALL, resource):
        return True
    base, _, sub = resource.partition("/")
    return bool(sub) and rule_resource == f"{ALL}/{sub}"


def rule_allows(rule, request: Request) -> bool:
    return ((ALL in rule.verbs or request.verb in rule.verbs)
            and (ALL in rule.api_groups or request.group in rule.api_groups)
            and any(_resource_matches(r, request.resource) for r in rule.resources)
            and (not rule.resource_names or request.name in rule.resource_names))


def rules_cover(owner_rules, rule) -> bool:
    """Does holding `owner_rules` give every right `rule` gives? (escalation prevention)

    `rule` is cut into single (group, resource, verb, name) rights; a wildcard
    in it is covered only by a wildcard, a list of names only by those names or
    by no name restriction.
    """
    if rule.non_resource_ur_ls:
        return all(any(_url_allowed(owner, verb, url) for owner in owner_rules)
                   for url, verb in itertools.product(rule.non_resource_ur_ls, rule.verbs))
    names = list(rule.resource_names) or [None]
    for group, resource, verb, name in itertools.product(rule.api_groups, rule.resources, rule.verbs, names):
        if not any(_owner_covers(owner, group, resource, verb, name) for owner in owner_rules):
            return False
    return True


def _url_allowed(rule, verb: str, path: str) -> bool:
    """Does `rule` allow `verb` on the non-resource URL `path` (exactly, or under a `prefix*`)?"""
    return (ALL in rule.verbs or verb in rule.verbs) and any(
        url == path or (url.endswith(ALL) and path.startswith(url[:-1])) for url in rule.non_resource_ur_ls)


def _owner_covers(owner, group: str, resource: str, verb: str, name: str | None) -> bool:
    if not (ALL in owner.verbs or verb in owner.verbs):
        return False
    if not (ALL in owner.api_groups or group in owner.api_groups):
        return False
    if not any(r == ALL or r == resource or (resource != ALL and "/" in resource
                                             and r == f"{ALL}/{resource.partition('/')[2]}")
               for r in owner.resources):
        return False
    if owner.resource_names:
        return name is not None and name in owner.resource_names
    return True


def subject_matches(subject, user: User, binding_namespace: str) -> bool:
    if subject.kind == "User":
        return subject.name == user.name
    if subject.kind == "Group":
        return subject.name == AUTHENTICATED_GROUP or subject.name in user.groups
    if subject.kind == "ServiceAccount":
        namespace = subject.namespace or binding_namespace
        return user.name == f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{subject.name}"
    return False


@dataclasses.dataclass
class Holdings:
    """The rules a user holds: everywhere, and per namespace."""
    cluster: list
    namespaced: dict

    def rules_in(self, namespace: str) -> list:
        return self.cluster + (self.namespaced.get(namespace, []) if namespace else [])


class RBAC:
    """The authorizer: rules from the four RBAC watch caches, held per user until one of them changes."""

    MEMO_SIZE = 8192

    def __init__(self, caches: dict):
        self._roles = caches["Role"]
        self._cluster_roles = caches["ClusterRole"]
        self._bindings = caches["RoleBinding"]
        self._cluster_bindings = caches["ClusterRoleBinding"]
        self._generation = None
        self._held: dict[tuple, Holdings] = {}
        self._decided: dict[tuple, Decision] = {}   # (user, groups, namespace, request) → decision, this generation

    def _current_generation(self) -> tuple:
        return tuple(c.changes for c in (self._roles, self._cluster_roles, self._bindings, self._cluster_bindings))

    def holdings(self, user: User) -> Holdings:
        generation = self._current_generation()
        if generation != self._generation:
            self._held, self._decided, self._generation = {}, {}, generation
        key = (user.name, user.groups)
        if key not in self._held:
            self._held[key] = self._collect(user)
        return self._held[key]

    def role_rules(self, role_ref, namespace: str) -> list:
        """The rules a binding in `namespace` (cluster-wide: "") grants through `role_ref`."""
        if role_ref.kind == "ClusterRole":
            found = self._cluster_roles.get(self._cluster_roles.kind.key("", role_ref.name))
        elif role_ref.kind == "Role" and namespace:
            found = self._roles.get(self._roles.kind.key(namespace, role_ref.name))
        else:
            found = None
        return list(found.obj.rules) if found is not None else []

    def _collect(self, user: User) -> Holdings:
        cluster = [rule for cached in self._cluster_bindings.list()
                   if any(subject_matches(s, user, "") for s in cached.obj.subjects)
                   for rule in self.role_rules(cached.obj.role_ref, "")]
        namespaced: dict[str, list] = {}
        for cached in self._bindings.list():
            binding = cached.obj
            namespace = binding.metadata.namespace
            if any(subject_matches(s, user, namespace) for s in binding.subjects):
                namespaced.setdefault(namespace, []).extend(self.role_rules(binding.role_ref, namespace))
        return Holdings(cluster, namespaced)

    def decide_url(self, user: User, verb: str, path: str) -> Decision:
        """A non-resource URL (/metrics): allowed by a cluster-wide rule naming it, or a prefix of it
        ending in `*`, with the verb."""
        if any(_url_allowed(rule, verb, path) for rule in self.holdings(user).cluster):
            return ALLOW
        return NO_OPINION

    def decide(self, attrs: Attributes) -> Decision:
        """Matched against the user's rules once per distinct request until an RBAC object changes: a client
        repeats the same few requests, and matching protobuf rules one by one costs tens of µs."""
        request = request_of(attrs)
        holdings = self.holdings(attrs.user)   # first: it empties the memo when RBAC objects changed
        key = (attrs.user.name, attrs.user.groups, attrs.namespace, request)
        decision = self._decided.get(key)
        if decision is None:
            allowed = any(rule_allows(rule, request) for rule in holdings.rules_in(attrs.namespace))
            decision = ALLOW if allowed else NO_OPINION
            if len(self._decided) >= self.MEMO_SIZE:
                self._decided.clear()
            self._decided[key] = decision
        return decision
