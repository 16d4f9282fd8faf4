"""Every name the REST façade speaks on the wire, in one place.

Content types, query parameters, annotations and the verbs kubectl reads
from discovery. Nothing else in rest/ spells these strings.
"""
# The Kubernetes API the façade follows, as /version reports it (kubectl warns past one minor of skew).
KUBERNETES_VERSION = "1.32"

# Content types of bodies.
JSON = "application/json"
YAML = "application/yaml"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"  # kubectl's typed requests (k8sproto.py)
BODY_TYPES = (JSON, PROTOBUF)  # for create, update and delete bodies
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)

# `Accept: application/json;as=Table;g=meta.k8s.io;v=v1` asks for a Table (kubectl get).
TABLE_MARKER = "as=Table"
META_GROUP_VERSION = "meta.k8s.io/v1"

# Query parameters.
DRY_RUN = "dryRun"
DRY_RUN_ALL = "All"
WATCH = "watch"
LABEL_SELECTOR = "labelSelector"
FIELD_SELECTOR = "fieldSelector"
LIMIT = "limit"
CONTINUE = "continue"
RESOURCE_VERSION = "resourceVersion"
ALLOW_BOOKMARKS = "allowWatchBookmarks"
TIMEOUT_SECONDS = "timeoutSeconds"
FIELD_MANAGER = "fieldManager"
FORCE = "force"
GRACE_PERIOD = "gracePeriodSeconds"
PROPAGATION_POLICY = "propagationPolicy"

# kubectl --as / --as-group: act as another user (the admin group only).
IMPERSONATE_USER = "Impersonate-User"
IMPERSONATE_GROUP = "Impersonate-Group"

# What `kubectl apply` (client side) records on the object it applied.
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# What a field manager last applied server-side (kubectl apply --server-side), as JSON, under this prefix
# and the manager's name: the fields it drops from its next apply are removed (api/patch.py).
APPLIED_BY_PREFIX = "coxswain.io/applied-by-"

# Discovery: the verbs of a kind, of its status and of a read-only subresource.
KIND_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
STATUS_VERBS = ("get", "patch", "update")
# `kubectl get all` lists the kinds in the "all" category, as Kubernetes groups them.
CATEGORY_ALL = frozenset({"Pod", "Service", "ReplicaSet", "Deployment", "Job"})

# Subresources served, by kind.
STATUS = "status"
SCALE = "scale"
BINDING = "binding"
LOG = "log"
EXEC = "exec"
EVICTION = "eviction"
TOKEN = "token"
PORTFORWARD = "portforward"
ATTACH = "attach"
PROXYRULES = "proxyrules"   # ours: when each node's proxy programmed the pod (rest/proxyrules.py)
SUBRESOURCES = {"Pod": (BINDING, LOG, EXEC, ATTACH, EVICTION, PORTFORWARD, PROXYRULES), "Deployment": (SCALE,), "ReplicaSet": (SCALE,),
                "ServiceAccount": (TOKEN,)}
# kubectl auth can-i asks here (not a kind: nothing is stored).
SELF_SUBJECT_ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
# kubectl auth can-i --list asks here.
SELF_SUBJECT_RULES_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"

# Watch event types.
ADDED, MODIFIED, DELETED, BOOKMARK, ERROR = "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"

# The REST port, when not given: the gRPC port's next one (6443 -> 6444).
REST_PORT_OFFSET = 1
