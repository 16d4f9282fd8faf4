"""The garbage collector's ownership graph and the work it hands out."""
from controlplane.api.kinds import KINDS
from controlplane.controllers import gcgraph
from controlplane.controllers.gcgraph import ATTEMPT, FOREGROUND, ORPHAN, Graph


def graph():
    return Graph({k.name: k.namespaced for k in KINDS.values()})


def obj(kind, name, uid, *owners, deleting=False, finalizers=()):
    o = KINDS[kind].new(metadata={"name": name, "namespace": "default", "uid": uid,
                                  "finalizers": list(finalizers)})
    for owner_kind, owner_name, owner_uid, block in owners:
        o.metadata.owner_references.add(kind=owner_kind, name=owner_name, uid=owner_uid, api_version="v",
                                        controller=True, block_owner_deletion=block)
    if deleting:
        o.metadata.deletion_timestamp.seconds = 1
    return o


def test_dependents_of_an_unseen_owner_are_checked():
    g = graph()
    assert g.observe("Pod", obj("Pod", "p", "p1", ("ReplicaSet", "rs", "rs1", True))) == [(ATTEMPT, "p1")]
    assert "rs1" not in g and g.get("rs1").dependents == {"p1"}         # a virtual node
    assert g.observe("ReplicaSet", obj("ReplicaSet", "rs", "rs1")) == []
    assert "rs1" in g
    assert g.observe("Pod", obj("Pod", "p", "p1", ("ReplicaSet", "rs", "rs1", True))) == []


def test_an_owner_gone_hands_its_dependents_to_attempt():
    g = graph()
    g.observe("ReplicaSet", obj("ReplicaSet", "rs", "rs1"))
    for i in range(3):
        g.observe("Pod", obj("Pod", f"p{i}", f"p{i}", ("ReplicaSet", "rs", "rs1", True)))
    assert sorted(g.forget(obj("ReplicaSet", "rs", "rs1"))) == [(ATTEMPT, "p0"), (ATTEMPT, "p1"), (ATTEMPT, "p2")]
    assert "rs1" not in g and g.get("rs1") is not None                   # virtual while named
    for i in range(3):
        g.forget(obj("Pod", f"p{i}", f"p{i}"))
    assert g.get("rs1") is None and not g.nodes


def test_foreground_deletion_waits_on_blocking_dependents():
    g = graph()
    g.observe("Pod", obj("Pod", "blocker", "b", ("ReplicaSet", "rs", "rs1", True)))
    g.observe("Pod", obj("Pod", "free", "f", ("ReplicaSet", "rs", "rs1", False)))
    deleting = obj("ReplicaSet", "rs", "rs1", deleting=True, finalizers=[gcgraph.FOREGROUND_FINALIZER])
    assert g.observe("ReplicaSet", deleting) == [(FOREGROUND, "rs1")]
    assert g.get("b").blocks("rs1") and not g.get("f").blocks("rs1")
    assert (FOREGROUND, "rs1") in g.forget(obj("Pod", "blocker", "b"))  # a blocker left: look again
    # a dependent that stops naming the owner unblocks it too
    g.observe("Pod", obj("Pod", "late", "l", ("ReplicaSet", "rs", "rs1", True)))
    assert (FOREGROUND, "rs1") in g.observe("Pod", obj("Pod", "late", "l"))


def test_orphan_deletion_is_handed_out():
    g = graph()
    g.observe("Pod", obj("Pod", "p", "p1", ("ReplicaSet", "rs", "rs1", True)))
    assert g.observe("ReplicaSet", obj("ReplicaSet", "rs", "rs1", deleting=True,
                                       finalizers=[gcgraph.ORPHAN_FINALIZER])) == [(ORPHAN, "rs1")]


def test_owners_of_cluster_scoped_kinds_have_no_namespace():
    g = graph()
    g.observe("Secret", obj("Secret", "s", "s1", ("Namespace", "ns", "ns1", False)))
    assert g.get("ns1").namespace == ""
    assert g.get("ns1").kind == "Namespace"
