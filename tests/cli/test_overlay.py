"""How apply lays a manifest over the live object."""
from controlplane.api import convert
from controlplane.api.kinds import KINDS
from controlplane.cli.overlay import applied


def manifest(data: dict):
    return convert.from_manifest(data), data


def live_pod():
    return KINDS["Pod"].new(
        metadata={"name": "web", "namespace": "default", "uid": "u1", "resource_version": "7",
                  "labels": {"app": "web", "old": "x"}, "annotations": {"note": "kept?"}},
        spec={"node_name": "node1", "scheduler_name": "default-scheduler", "node_selector": {"disk": "ssd"},
              "containers": [{"name": "a", "image": "busybox:1", "image_pull_policy": "IfNotPresent"}]},
        status={"phase": "Running"})


POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "web", "labels": {"app": "web"}},
       "spec": {"containers": [{"name": "a", "image": "busybox:2"}]}}


def test_named_fields_replace_and_the_rest_keeps_live_values():
    obj, data = manifest(POD)
    result = applied(live_pod(), obj, data)
    assert result.spec.node_name == "node1"                    # the scheduler's, not in the manifest
    assert dict(result.spec.node_selector) == {"disk": "ssd"}  # not named: kept
    assert [c.image for c in result.spec.containers] == ["busybox:2"]
    assert not result.spec.containers[0].image_pull_policy     # lists replaced whole (defaults refill)
    assert dict(result.metadata.labels) == {"app": "web"}      # maps replaced whole: "old" is gone
    assert dict(result.metadata.annotations) == {"note": "kept?"}  # not named: kept
    assert (result.metadata.uid, result.metadata.resource_version) == ("u1", "7")
    assert result.status.phase == "Running"


def test_null_clears_and_metadata_besides_labels_is_ignored():
    data = {**POD, "metadata": {"name": "web", "uid": "other", "resourceVersion": "1", "annotations": None},
            "spec": {**POD["spec"], "nodeSelector": None}, "status": {"phase": "Failed"}}
    obj, data = manifest(data)
    result = applied(live_pod(), obj, data)
    assert not result.spec.node_selector and not result.metadata.annotations
    assert (result.metadata.uid, result.metadata.resource_version) == ("u1", "7")
    assert result.status.phase == "Running"


def test_empty_object_in_manifest_is_present():
    live = KINDS["Deployment"].new(metadata={"name": "d", "namespace": "default"})
    obj, data = manifest({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                          "spec": {"strategy": {}}})
    assert applied(live, obj, data).spec.HasField("strategy")


def test_top_level_maps_of_config_maps_are_replaced():
    live = KINDS["ConfigMap"].new(metadata={"name": "c", "namespace": "default"}, data={"a": "1", "b": "2"})
    obj, data = manifest({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                          "data": {"a": "3"}})
    assert dict(applied(live, obj, data).data) == {"a": "3"}
