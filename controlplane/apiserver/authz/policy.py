"""The roles and bindings every cluster starts with (Kubernetes' bootstrap policy, in small).

`cluster-admin`, `admin`, `edit` and `view` as users know them, bound where
Kubernetes binds them: cluster-admin to group system:masters. The control
plane's components each get a role of their own with the rights they use:
the scheduler reads pods, nodes and priority classes and binds pods; the
controller manager runs every controller (the namespace and garbage
collectors delete anything), but may not write RBAC objects or node
credentials. The server makes whatever is missing at every start; existing
bindings are left alone, and existing default ClusterRoles gain the rights a
newer version added to them (reconcile.py), keeping whatever an
administrator added, unless annotated autoupdate "false".
"""
from controlplane.api.kinds import KINDS

READ = ["get", "list", "watch"]
WRITE = ["create", "update", "patch", "delete", "deletecollection"]
SCHEDULER_USER = "system:kube-scheduler"
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
RBAC_GROUP = "rbac.authorization.k8s.io"

# What namespaced users work with, by API group (the admin/edit/view roles' scope).
_WORKLOADS = {
    "": ["pods", "pods/log", "pods/proxyrules", "pods/status", "services", "services/status", "endpoints", "configmaps",
         "serviceaccounts", "events", "replicationcontrollers", "persistentvolumeclaims"],
    "apps": ["deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale",
             "replicasets/status", "daemonsets", "statefulsets", "statefulsets/status"],
    "batch": ["jobs", "jobs/status", "cronjobs"],
    "policy": ["poddisruptionbudgets", "poddisruptionbudgets/status"],
}


def _rule(groups, resources, verbs, names=()) -> dict:
    return {"api_groups": list(groups), "resources": list(resources), "verbs": list(verbs),
            "resource_names": list(names)}


def _workload_rules(verbs) -> list[dict]:
    return [_rule([group], resources, verbs) for group, resources in _WORKLOADS.items()]


# A namespace's bounds: its users read them, only cluster administrators set them (as in Kubernetes).
_BOUNDS = _rule([""], ["resourcequotas", "resourcequotas/status", "limitranges"], READ)
VIEW = _workload_rules(READ) + [_BOUNDS]
EDIT = (_workload_rules(READ + WRITE)
        + [_BOUNDS, _rule([""], ["secrets"], READ + WRITE),
           _rule([""], ["pods/exec", "pods/attach", "pods/portforward", "pods/eviction", "serviceaccounts/token"],
                 ["create"])])
ADMIN = EDIT + [_rule([RBAC_GROUP], ["roles", "rolebindings"], READ + WRITE)]

SCHEDULER = [
    _rule([""], ["pods"], READ + ["delete"]), _rule([""], ["pods/binding"], ["create"]),
    _rule([""], ["pods/status"], ["update"]), _rule([""], ["nodes", "namespaces"], READ),
    _rule([""], ["events"], ["create", "update"]), _rule(["scheduling.k8s.io"], ["priorityclasses"], READ),
    _rule(["coordination.k8s.io"], ["leases"], READ + ["create", "update"]),
    _rule([""], ["persistentvolumeclaims"], READ + ["update"]), _rule([""], ["persistentvolumes"], READ),
    _rule(["storage.k8s.io"], ["storageclasses"], READ),
]


def _controller_manager_rules() -> list[dict]:
    rules = []
    for kind in KINDS.values():
        group = kind.group
        if group in (RBAC_GROUP, "coxswain.io"):
            # read, as the garbage collector reads every kind; delete, as a deleted namespace's roles go
            rules.append(_rule([group], [kind.plural], READ + ["delete"]))
        else:
            rules.append(_rule([group], [kind.plural, f"{kind.plural}/status"], READ + WRITE))
    return rules + [_rule([""], ["pods/binding"], ["create"])]


MONITORING = "system:monitoring"   # Kubernetes' role and group for scrapers of /metrics

CLUSTER_ROLES = {
    "cluster-admin": [_rule(["*"], ["*"], ["*"]), {"verbs": ["*"], "non_resource_ur_ls": ["*"]}],
    "admin": ADMIN,
    "edit": EDIT,
    "view": VIEW,
    SCHEDULER_USER: SCHEDULER,
    CONTROLLER_MANAGER_USER: _controller_manager_rules(),
    MONITORING: [{"verbs": ["get"], "non_resource_ur_ls": ["/metrics", "/healthz", "/livez", "/readyz"]}],
}

# name → (ClusterRole, subject kind, subject name)
CLUSTER_ROLE_BINDINGS = {
    "cluster-admin": ("cluster-admin", "Group", "system:masters"),
    SCHEDULER_USER: (SCHEDULER_USER, "User", SCHEDULER_USER),
    CONTROLLER_MANAGER_USER: (CONTROLLER_MANAGER_USER, "User", CONTROLLER_MANAGER_USER),
    MONITORING: (MONITORING, "Group", MONITORING),
}

_BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
# Kubernetes' annotation on its default roles: "true", reconciled at each start; "false", left alone.
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"


def objects() -> list:
    """The default ClusterRoles, then the ClusterRoleBindings."""
    roles = [KINDS["ClusterRole"].new(metadata={"name": name, "labels": _BOOTSTRAP_LABELS,
                                                "annotations": {AUTOUPDATE: "true"}}, rules=rules)
             for name, rules in CLUSTER_ROLES.items()]
    bindings = [KINDS["ClusterRoleBinding"].new(
        metadata={"name": name, "labels": _BOOTSTRAP_LABELS},
        role_ref={"api_group": RBAC_GROUP, "kind": "ClusterRole", "name": role},
        subjects=[{"kind": kind, "name": subject, **({"api_group": RBAC_GROUP} if kind != "ServiceAccount" else {})}])
        for name, (role, kind, subject) in CLUSTER_ROLE_BINDINGS.items()]
    return roles + bindings
