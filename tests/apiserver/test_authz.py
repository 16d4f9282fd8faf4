"""The node authorizer and NodeRestriction as pure functions: attributes and objects in, verdicts out."""
import pytest

from controlplane.api import podrefs
from controlplane.api.kinds import KINDS
from controlplane.api.wellknown import AGENT_CERT_ANNOTATION, MIRROR_POD_ANNOTATION
from controlplane.apiserver import auth
from controlplane.apiserver.authz import Authorizer, PodReferences, node, noderestriction, table
from controlplane.apiserver.authz.attributes import Attributes, Verdict
from controlplane.apiserver.nodecredentials import approval, node_user
from tests.support.objects import pod

A, B = node_user("a"), node_user("b")
ADMIN = auth.User("admin", (auth.ADMIN_GROUP,))
BOOTSTRAP = auth.User("system:bootstrap:join-token", (auth.BOOTSTRAP_GROUP,))


class Pods:
    """A pod view over a list (the server's is its watch cache)."""

    def __init__(self, *pods, volumes=()):
        self._pods = pods
        self._volumes = {v.metadata.name: v for v in volumes}

    def persistent_volume(self, name):
        return self._volumes.get(name)

    def pod(self, namespace, name):
        return next((p for p in self._pods if (p.metadata.namespace, p.metadata.name) == (namespace, name)), None)

    def refers(self, node, namespace, reference):
        return any(p.spec.node_name == node and p.metadata.namespace == namespace
                   and reference in podrefs.references(p) for p in self._pods)


ON_A = pod("on-a", node_name="a", volumes=[{"name": "s", "secret": {"secret_name": "a-secret"}},
                                           {"name": "d", "persistent_volume_claim": {"claim_name": "a-data"}}],
           service_account_name="runner")
ON_A.spec.containers[0].env.add(name="X", value_from={"config_map_key_ref": {"name": "a-config", "key": "k"}})
ON_B = pod("on-b", node_name="b", volumes=[{"name": "s", "projected": {"sources": [{"secret": {"name": "b-secret"}}]}}])


def released_local_path_volume(name, node_name, phase="Released"):
    volume = KINDS["PersistentVolume"].new(
        metadata={"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": "coxswain.io/local-path"}},
        spec={"persistent_volume_reclaim_policy": "Delete", "host_path": {"path": f"/srv/{name}"}},
        status={"phase": phase})
    volume.spec.node_affinity.required.node_selector_terms.add().match_expressions.add(
        key="kubernetes.io/hostname", operator="In", values=[node_name])
    return volume


PODS = Pods(ON_A, ON_B, volumes=[released_local_path_volume("pv-a", "a"), released_local_path_volume("pv-b", "b"),
                                 released_local_path_volume("pv-a-bound", "a", phase="Bound")])


def verdict(user, verb, kind, namespace="", name=""):
    return node.decide(Attributes(user, verb, kind, namespace, name), PODS).verdict


@pytest.mark.parametrize("verb,kind,namespace,name", [
    ("get", "Secret", "default", "a-secret"), ("get", "ConfigMap", "default", "a-config"),
    ("get", "ServiceAccount", "default", "runner"), ("list", "Pod", "", ""), ("watch", "Endpoints", "", ""),
    ("update_status", "Pod", "default", "on-a"), ("delete", "Pod", "default", "on-a"),
    ("update_status", "Node", "", "a"), ("update", "Lease", "kube-node-lease", "a"), ("create", "Event", "default", ""),
    ("create", "NodeCredentialRequest", "", ""), ("get", "PersistentVolumeClaim", "default", "a-data"),
    ("watch", "PersistentVolume", "", ""), ("delete", "PersistentVolume", "", "pv-a"),
])
def test_a_node_may_do_what_its_own_work_needs(verb, kind, namespace, name):
    assert verdict(A, verb, kind, namespace, name) is Verdict.ALLOW


@pytest.mark.parametrize("verb,kind,namespace,name", [
    ("get", "Secret", "default", "b-secret"),          # named by a pod on another node
    ("get", "Secret", "default", "nobody-uses-it"),
    ("list", "Secret", "", ""), ("watch", "Secret", "default", ""), ("get", "Secret", "other", "a-secret"),
    ("update_status", "Pod", "default", "on-b"), ("delete", "Pod", "default", "on-b"),
    ("delete", "Pod", "default", "ghost"), ("update", "Pod", "default", "on-a"), ("bind", "Pod", "default", "on-a"),
    ("exec", "Pod", "default", "on-a"), ("get", "PersistentVolumeClaim", "default", "b-data"),
    ("delete", "PersistentVolume", "", "pv-b"), ("delete", "PersistentVolume", "", "pv-a-bound"),
    ("update", "PersistentVolume", "", "pv-a"),
    ("update", "Node", "", "b"), ("create", "Node", "", "evil"), ("delete", "Node", "", "a"),
    ("update", "Lease", "kube-node-lease", "b"), ("update", "Lease", "kube-system", "kube-scheduler"),
    ("get", "Lease", "kube-system", "kube-controller-manager"),
    ("update", "Endpoints", "default", "web"), ("create", "Endpoints", "default", "web"),
    ("update", "Service", "default", "web"), ("list", "Deployment", "", ""), ("delete", "Event", "default", "e"),
])
def test_a_node_may_not_reach_beyond_itself(verb, kind, namespace, name):
    assert verdict(A, verb, kind, namespace, name) is Verdict.DENY


def test_other_users_are_not_the_node_authorizers_business():
    assert verdict(ADMIN, "delete", "Node", "", "a") is Verdict.NO_OPINION
    assert verdict(auth.User("system:node:a"), "get", "Secret", "default", "a-secret") is Verdict.NO_OPINION, \
        "the name alone, without the group, is no node"


def test_the_join_token_may_only_ask_for_a_credential():
    allowed = table.decide(Attributes(BOOTSTRAP, "create", "NodeCredentialRequest", "", ""))
    assert allowed.verdict is Verdict.ALLOW
    for verb, kind in (("get", "NodeCredentialRequest"), ("list", "Pod"), ("create", "Node"), ("get", "Secret")):
        assert table.decide(Attributes(BOOTSTRAP, verb, kind, "", "")).verdict is Verdict.DENY


def test_the_chain_refuses_what_nobody_allows():
    class Empty:
        changes = 0

        def get(self, key):
            return None

        def list(self, namespace=""):
            return []

        def add_index(self, index):
            index.rebuild([])
    caches = {kind: Empty() for kind in ("Pod", "PersistentVolume", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")}
    decision = Authorizer(caches).authorize(Attributes(auth.User("stranger"), "get", "Pod", "default", "p"))
    assert decision.verdict is Verdict.DENY and "no RBAC rule allows it" in decision.reason


def node_object(name, *, taints=(), labels=None, pin=""):
    obj = KINDS["Node"].new(metadata={"name": name, "labels": labels or {},
                                      "annotations": {AGENT_CERT_ANNOTATION: pin} if pin else {}},
                            spec={"taints": [{"key": k, "effect": "NoSchedule"} for k in taints]})
    return obj


def test_node_restriction_on_the_nodes_own_object():
    old = node_object("a", taints=["dedicated"], pin="11")
    assert noderestriction.node_write_refusal("a", node_object("a", taints=["dedicated"], pin="22"), old) == ""
    assert "spec.taints" in noderestriction.node_write_refusal("a", node_object("a", pin="11"), old)
    refused = noderestriction.node_write_refusal("a", node_object("a", taints=["dedicated"], pin="11",
                                                                  labels={"node-role.kubernetes.io/master": ""}), old)
    assert "metadata.labels" in refused
    assert "metadata.labels" in noderestriction.node_write_refusal(
        "a", node_object("a", labels={"node-restriction.kubernetes.io/zone": "x"}), None)
    assert noderestriction.node_write_refusal("a", node_object("a", taints=["t"], labels={"tier": "x"}), None) == ""


def test_only_the_node_itself_sets_how_its_agent_is_reached():
    old = node_object("a", pin="11")
    assert "agent-cert-sha256" in noderestriction.node_write_refusal(None, node_object("a", pin="evil"), old)
    moved = node_object("a", pin="11")
    moved.status.daemon_endpoints.kubelet_endpoint.port = 1
    assert "status.daemonEndpoints" in noderestriction.node_write_refusal(None, moved, old)
    unset = node_object("a")
    unset.status.daemon_endpoints.kubelet_endpoint.port = 0
    assert noderestriction.node_write_refusal(None, unset, None) == "", "port 0 is no endpoint"
    cordoned = node_object("a", pin="11")
    cordoned.spec.unschedulable = True
    assert noderestriction.node_write_refusal(None, cordoned, old) == "", "an admin may still cordon it"


def test_a_node_creates_only_mirror_pods_of_its_own():
    mirror = pod("static-a", node_name="a")
    mirror.metadata.annotations[MIRROR_POD_ANNOTATION] = "hash"
    assert noderestriction.pod_create_refusal("a", mirror) == ""
    assert "bound to itself" in noderestriction.pod_create_refusal("b", mirror)
    plain = pod("plain", node_name="a")
    assert "mirror pods" in noderestriction.pod_create_refusal("a", plain)
    greedy = pod("greedy", node_name="a", volumes=[{"name": "s", "secret": {"secret_name": "db"}}])
    greedy.metadata.annotations[MIRROR_POD_ANNOTATION] = "hash"
    assert "Secret db" in noderestriction.pod_create_refusal("a", greedy)


def test_credential_approval():
    assert approval(requester=BOOTSTRAP, node_name="a", held_by_live_node=False).reason == "AutoApprovedBootstrap"
    assert "held by a live node" in approval(requester=BOOTSTRAP, node_name="a", held_by_live_node=True).refusal
    assert approval(requester=A, node_name="a", held_by_live_node=True).reason == "AutoApprovedRenewal"
    assert "only renew its own" in approval(requester=A, node_name="b", held_by_live_node=False).refusal
    assert approval(requester=ADMIN, node_name="b", held_by_live_node=True).reason == "ApprovedByAdmin"
    stranger = auth.User("system:serviceaccount:default:x", (auth.SERVICE_ACCOUNTS_GROUP,))
    assert approval(requester=stranger, node_name="a", held_by_live_node=False).refusal


def test_the_reference_index_follows_binding_and_deletion():
    index = PodReferences()
    shared = [pod(n, volumes=[{"name": "s", "secret": {"secret_name": "db"}}]) for n in ("p1", "p2")]
    index.rebuild(shared)
    key = ("a", "default", podrefs.Reference("Secret", "db"))
    assert key not in index, "an unbound pod gives no node anything"
    bound = []
    for p in shared:
        b = type(p)()
        b.CopyFrom(p)
        b.spec.node_name = "a"
        index.update(p, b)
        bound.append(b)
    assert key in index
    index.update(bound[0], None)
    assert key in index, "the other pod on the node still names it"
    index.update(bound[1], None)
    assert key not in index
