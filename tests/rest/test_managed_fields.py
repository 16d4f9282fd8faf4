"""Server-side apply between field managers: managedFields, conflicts (409 naming the fields), --force-conflicts."""
import json

import kubernetes

from tests.rest.test_python_client import _api_client


def _config_map(**data) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": data})


def _apply(kubectl, namespace, manager, manifest, *extra, ok=True):
    return kubectl("apply", "--server-side", f"--field-manager={manager}", "-n", namespace, *extra, "-f", "-",
                   stdin=manifest, ok=ok)


def _managed(kubectl, namespace) -> dict:
    obj = kubectl.json("get", "configmap", "shared", "-n", namespace, "--show-managed-fields")
    return {entry["manager"]: entry for entry in obj["metadata"]["managedFields"]}


def test_a_conflicting_apply_is_refused_naming_the_field_and_the_owner(kubectl, namespace):
    _apply(kubectl, namespace, "alice", _config_map(a="1", b="1"))
    refused = _apply(kubectl, namespace, "bob", _config_map(a="2", c="1"), ok=False)
    assert refused.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "alice": .data.a' in refused.stderr
    assert kubectl.json("get", "configmap", "shared", "-n", namespace)["data"] == {"a": "1", "b": "1"}
    _apply(kubectl, namespace, "bob", _config_map(a="1", c="1"))   # the same value: shared, no conflict
    managed = _managed(kubectl, namespace)
    assert managed["alice"]["operation"] == "Apply" and managed["alice"]["fieldsType"] == "FieldsV1"
    assert managed["alice"]["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}
    assert managed["bob"]["fieldsV1"] == {"f:data": {"f:a": {}, "f:c": {}}}
    assert "managedFields" not in kubectl.json("get", "configmap", "shared", "-n", namespace)["metadata"]


def test_force_conflicts_takes_the_fields(kubectl, namespace):
    _apply(kubectl, namespace, "alice", _config_map(a="1", b="1"))
    _apply(kubectl, namespace, "bob", _config_map(a="2"), "--force-conflicts")
    assert kubectl.json("get", "configmap", "shared", "-n", namespace)["data"] == {"a": "2", "b": "1"}
    managed = _managed(kubectl, namespace)
    assert managed["alice"]["fieldsV1"] == {"f:data": {"f:b": {}}} and managed["bob"]["fieldsV1"] == {
        "f:data": {"f:a": {}}}
    again = _apply(kubectl, namespace, "alice", _config_map(a="1", b="1"), ok=False)
    assert 'conflict with "bob": .data.a' in again.stderr
    # alice stops applying b: it goes; a field both apply stays while one still does.
    _apply(kubectl, namespace, "alice", _config_map(a="2"))
    _apply(kubectl, namespace, "bob", _config_map())
    assert kubectl.json("get", "configmap", "shared", "-n", namespace)["data"] == {"a": "2"}


def test_conflicts_in_keyed_lists_name_the_item(kubectl, namespace):
    def deployment(image: str, replicas: int) -> str:
        return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                           "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                                    "template": {"metadata": {"labels": {"app": "web"}},
                                                 "spec": {"containers": [{"name": "c", "image": image}]}}}})
    kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=deployment("busybox:1", 1))
    refused = kubectl("apply", "--server-side", "--field-manager=ci", "-n", namespace, "-f", "-",
                      stdin=deployment("busybox:2", 3), ok=False)
    assert "Apply failed with 2 conflicts" in refused.stderr
    assert '.spec.template.spec.containers[name="c"].image' in refused.stderr and ".spec.replicas" in refused.stderr


def test_a_read_modify_write_sending_managed_fields_back_is_taken(kubectl, server, namespace):
    """managedFields are the server's: a client that PUTs back what it read (Python client) is not refused."""
    _apply(kubectl, namespace, "alice", _config_map(a="1"))
    api = _api_client(server)
    try:
        core = kubernetes.client.CoreV1Api(api)
        read = core.read_namespaced_config_map("shared", namespace)
        assert [m.manager for m in read.metadata.managed_fields] == ["alice"]
        read.data["z"] = "9"
        core.replace_namespaced_config_map("shared", namespace, read)
    finally:
        api.close()
    assert kubectl.json("get", "configmap", "shared", "-n", namespace)["data"] == {"a": "1", "z": "9"}
