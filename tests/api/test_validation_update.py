"""Validation on update: what may change and what may not, with Kubernetes' rules."""
import pytest

from controlplane.api import defaults, validation
from tests.api.manifests import admitted, load


def _stored(name: str):
    """An object as the store holds it: admitted, with a creation time."""
    obj = admitted(load(name))
    obj.metadata.creation_timestamp.seconds = 1_700_000_000
    return obj


def _update_errors(old, edit) -> list[str]:
    """Errors for replacing `old` by a copy changed by `edit`, defaulted as the server does."""
    new = type(old)()
    new.CopyFrom(old)
    edit(new)
    defaults.apply_defaults(new)
    return [str(e) for e in validation.validate_update(new, old)]


def test_unchanged_objects_are_valid_updates():
    for name in ("pod.yaml", "deployment.yaml", "job.yaml", "service-nodeport.yaml", "secret.yaml",
                 "configmap.yaml", "namespace.yaml", "priorityclass.yaml", "serviceaccount.yaml"):
        old = _stored(name)
        assert _update_errors(old, lambda new: None) == [], name


def test_identity_is_immutable():
    old = _stored("configmap.yaml")

    def edit(new):
        new.metadata.name = "other"
        new.metadata.namespace = "elsewhere"
        new.metadata.uid = "another-uid"
        new.metadata.creation_timestamp.seconds += 1
    assert _update_errors(old, edit) == [
        "metadata.name: field is immutable", "metadata.namespace: field is immutable",
        "metadata.uid: field is immutable", "metadata.creationTimestamp: field is immutable"]


def test_labels_and_annotations_may_change():
    old = _stored("pod.yaml")
    assert _update_errors(old, lambda new: new.metadata.labels.update(extra="yes")) == []


def test_no_new_finalizers_while_deleting():
    old = _stored("configmap.yaml")
    old.metadata.deletion_timestamp.seconds = 1_800_000_000
    old.metadata.deletion_grace_period_seconds = 0
    old.metadata.finalizers.append("example.com/a")
    assert _update_errors(old, lambda new: new.metadata.finalizers.append("example.com/b")) == [
        "metadata.finalizers: no new finalizers can be added if the object is being deleted, "
        "found ['example.com/b']"]
    assert _update_errors(old, lambda new: new.metadata.ClearField("finalizers")) == []
    assert _update_errors(old, lambda new: new.metadata.ClearField("deletion_timestamp")) == [
        "metadata.deletionTimestamp: field is immutable"]


# ---------------------------------------------------------------- pods

POD_SPEC_FORBIDDEN = ("spec: pod updates may not change fields other than spec.containers[*].image, "
                      "spec.initContainers[*].image, spec.activeDeadlineSeconds (set or shortened), "
                      "spec.tolerations (additions only)")


def _set_deadline(seconds):
    def edit(new):
        new.spec.active_deadline_seconds = seconds
    return edit


@pytest.mark.parametrize("edit, expected", [
    (lambda new: setattr(new.spec.containers[0], "image", "busybox:1.37"), []),
    (lambda new: setattr(new.spec.init_containers[0], "image", "busybox:1.37"), []),
    (_set_deadline(600), []),
    (lambda new: new.spec.tolerations.add(key="extra", operator="Exists"), []),
    (lambda new: new.spec.containers[0].command.append("more"), [POD_SPEC_FORBIDDEN]),
    (lambda new: setattr(new.spec, "node_name", "node-2"), [POD_SPEC_FORBIDDEN]),
    (lambda new: setattr(new.spec, "restart_policy", "Never"), [POD_SPEC_FORBIDDEN]),
    (lambda new: new.spec.containers.add(name="more", image="busybox"), [POD_SPEC_FORBIDDEN]),
    (lambda new: new.spec.tolerations.pop(0), [
        'spec.tolerations: existing toleration "dedicated" may not be removed or changed']),
    (lambda new: setattr(new.spec.tolerations[1], "toleration_seconds", 60), []),
    (lambda new: setattr(new.spec.tolerations[1], "toleration_seconds", 900), [
        'spec.tolerations: tolerationSeconds of existing toleration "node.kubernetes.io/not-ready" may only be '
        "decreased"]),
])
def test_pod_spec_is_immutable_except_images_deadline_and_tolerations(edit, expected):
    assert _update_errors(_stored("pod.yaml"), edit) == expected


def test_active_deadline_may_only_shrink():
    old = _stored("pod.yaml")
    old.spec.active_deadline_seconds = 600
    assert _update_errors(old, _set_deadline(300)) == []
    assert _update_errors(old, _set_deadline(900)) == [
        "spec.activeDeadlineSeconds: must be less than or equal to the previous value 600"]
    assert _update_errors(old, lambda new: new.spec.ClearField("active_deadline_seconds")) == [
        "spec.activeDeadlineSeconds: must not be removed once set"]


def test_changed_spec_is_still_validated():
    assert _update_errors(_stored("pod.yaml"), lambda new: setattr(new.spec.containers[0], "image", "")) == [
        "spec.containers[0].image: required"]


# ---------------------------------------------------------------- workloads

def test_deployment_selector_is_immutable_but_replicas_and_template_are_not():
    old = _stored("deployment.yaml")
    assert _update_errors(old, lambda new: setattr(new.spec, "replicas", 5)) == []
    assert _update_errors(old, lambda new: setattr(new.spec.template.spec.containers[0], "image", "b:2")) == []

    def reselect(new):
        new.spec.selector.match_labels["tier"] = "web"
        new.spec.template.metadata.labels["tier"] = "web"
    assert _update_errors(old, reselect) == ["spec.selector: field is immutable"]


def test_replica_set_selector_is_immutable():
    old = admitted({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "r"},
                    "spec": {"selector": {"matchLabels": {"app": "r"}},
                             "template": {"metadata": {"labels": {"app": "r", "v": "1"}},
                                          "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})
    assert _update_errors(old, lambda new: setattr(new.spec, "replicas", 3)) == []
    assert _update_errors(old, lambda new: new.spec.selector.match_labels.update(v="1")) == [
        "spec.selector: field is immutable"]


def test_job_template_and_completions_are_immutable():
    old = _stored("job.yaml")
    assert _update_errors(old, lambda new: setattr(new.spec, "parallelism", 4)) == []
    assert _update_errors(old, lambda new: setattr(new.spec.template.spec.containers[0], "image", "x")) == [
        "spec.template: field is immutable"]
    assert _update_errors(old, lambda new: setattr(new.spec, "completions", 3)) == [
        "spec.completions: field is immutable"]


# ---------------------------------------------------------------- the rest

def test_service_cluster_ip_is_immutable_once_set():
    old = _stored("service-clusterip.yaml")
    assert _update_errors(old, lambda new: setattr(new.spec, "cluster_ip", "10.96.0.10")) == []
    old.spec.cluster_ip = "10.96.0.10"
    assert _update_errors(old, lambda new: setattr(new.spec, "cluster_ip", "10.96.0.11")) == [
        "spec.clusterIP: field is immutable"]
    assert _update_errors(old, lambda new: new.spec.selector.update(app="other")) == []


def test_immutable_config_map_and_secret():
    old = _stored("configmap.yaml")
    old.immutable = True
    assert _update_errors(old, lambda new: new.data.update(a="changed")) == [
        "data: field is immutable when `immutable` is set"]
    assert _update_errors(old, lambda new: setattr(new, "immutable", False)) == [
        "immutable: field is immutable when `immutable` is set"]
    assert _update_errors(old, lambda new: new.metadata.labels.update(x="y")) == []

    secret = _stored("secret.yaml")
    assert _update_errors(secret, lambda new: new.data.update(password=b"new")) == []
    assert _update_errors(secret, lambda new: setattr(new, "type", "kubernetes.io/basic-auth")) == [
        "type: field is immutable"]


def test_priority_class_value_is_immutable():
    old = _stored("priorityclass.yaml")
    assert _update_errors(old, lambda new: setattr(new, "value", 5)) == ["value: field is immutable"]
    assert _update_errors(old, lambda new: setattr(new, "description", "other")) == []


def test_node_pod_cidr_is_set_once():
    old = admitted({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}})
    assert _update_errors(old, lambda new: setattr(new.spec, "pod_cidr", "10.244.1.0/24")) == []
    old.spec.pod_cidr = "10.244.1.0/24"
    assert _update_errors(old, lambda new: setattr(new.spec, "pod_cidr", "10.244.2.0/24")) == [
        "spec.podCIDR: field is immutable"]
    assert _update_errors(old, lambda new: setattr(new.spec, "unschedulable", True)) == []
