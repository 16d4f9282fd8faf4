"""Volume binding and local-path provisioning rules (volumeplan.py), on objects built in memory."""
from controlplane.api import defaults, localpath
from controlplane.api.kinds import KINDS
from controlplane.api.wellknown import LOCAL_PATH_DIR_ANNOTATION, SELECTED_NODE_ANNOTATION
from controlplane.controllers import volumeplan as vp

CLASSES = {"local-path": vp.local_path_class(),
           "manual": KINDS["StorageClass"].new(metadata={"name": "manual"}, provisioner="kubernetes.io/no-provisioner",
                                              volume_binding_mode="Immediate", reclaim_policy="Retain")}
NODES = {"n1": KINDS["Node"].new(metadata={"name": "n1", "labels": {"kubernetes.io/hostname": "n1"},
                                           "annotations": {LOCAL_PATH_DIR_ANNOTATION: "/srv/n1/storage"}}),
         "n2": KINDS["Node"].new(metadata={"name": "n2", "labels": {"kubernetes.io/hostname": "n2"}})}


def claim(name="data", *, size="1Gi", cls=None, node=None, **spec):
    c = KINDS["PersistentVolumeClaim"].new(metadata={"name": name, "namespace": "ns", "uid": f"{name}-uid"},
                                           spec={"access_modes": ["ReadWriteOnce"],
                                                 "resources": {"requests": {"storage": size}}, **spec})
    if cls is not None:
        c.spec.storage_class_name = cls
    if node:
        c.metadata.annotations[SELECTED_NODE_ANNOTATION] = node
    defaults.apply_defaults(c)
    return c


def volume(name, size="5Gi", cls="manual", node=None, **spec):
    v = KINDS["PersistentVolume"].new(metadata={"name": name}, spec={
        "capacity": {"storage": size}, "access_modes": ["ReadWriteOnce"], "storage_class_name": cls,
        "host_path": {"path": f"/mnt/{name}"}, **spec})
    if node:
        v.spec.node_affinity.required.node_selector_terms.add().match_expressions.add(
            key="kubernetes.io/hostname", operator="In", values=[node])
    defaults.apply_defaults(v)
    return v


def step(c, volumes=()):
    return vp.claim_step(c, list(volumes), CLASSES, NODES)


def test_a_claim_without_a_class_gets_the_default_one():
    assert (step(claim()).action, step(claim()).class_name) == ("default-class", "local-path")
    assert vp.claim_step(claim(), [], {"manual": CLASSES["manual"]}, NODES).reason == "no default StorageClass"


def test_the_smallest_fitting_volume_of_the_class_is_bound():
    volumes = [volume("big", "10Gi"), volume("small", "2Gi"), volume("tiny", "512Mi"), volume("other", cls="")]
    assert step(claim(cls="manual"), volumes).volume.metadata.name == "small"
    assert step(claim(cls="manual", size="20Gi"), volumes).action == "wait"
    assert step(claim(cls="manual", access_modes=["ReadWriteMany"]), volumes).action == "wait"


def test_local_path_waits_for_the_first_consumer_then_provisions_on_its_node():
    assert step(claim(cls="local-path")).reason == "waiting for first consumer to be created before binding"
    made = step(claim(cls="local-path", node="n1"))
    assert made.action == "provision"
    pv = made.volume
    assert pv.spec.host_path.path == "/srv/n1/storage/pvc-data-uid_ns_data"
    assert (pv.spec.persistent_volume_reclaim_policy, pv.spec.claim_ref.uid, localpath.node_of_volume(pv)) == \
        ("Delete", "data-uid", "n1")
    on_n2 = step(claim(cls="local-path", node="n2")).volume
    assert on_n2.spec.host_path.path.startswith(vp.DEFAULT_LOCAL_PATH_DIR + "/")


def test_a_waiting_claim_binds_only_to_a_volume_its_node_reaches():
    pinned = volume("pinned", cls="local-path", node="n2")
    assert step(claim(cls="local-path", node="n1"), [pinned]).action == "provision"
    assert step(claim(cls="local-path", node="n2"), [pinned]).volume.metadata.name == "pinned"


def test_volume_phases_follow_the_claim():
    c = claim(cls="local-path", node="n1")
    pv = step(c).volume
    assert vp.volume_phase(pv, c)[0] == "Pending"
    c.spec.volume_name = pv.metadata.name
    assert vp.volume_phase(pv, c)[0] == "Bound"
    pv.status.phase = "Bound"
    assert vp.volume_phase(pv, None)[0] == "Released"
    pv.status.phase = "Released"
    assert localpath.agent_deletes(pv, "n1") and not localpath.agent_deletes(pv, "n2")
    hand_made = volume("hand", persistent_volume_reclaim_policy="Delete", claim_ref={"name": "x", "namespace": "ns",
                                                                                      "uid": "gone"})
    assert vp.volume_phase(hand_made, None)[0] == "Failed"
    assert vp.volume_phase(volume("free"), None)[0] == "Available"
