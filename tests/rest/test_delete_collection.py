"""DELETE on a collection (deletecollection): selectors, DeleteOptions, dry run, and its own RBAC verb.

kubectl's `delete --all` and `delete -l` list and delete object by object (as against Kubernetes);
the collection DELETE is what `kubectl delete --raw` and the client libraries'
delete_collection_* send, and RBAC knows it as a verb of its own.
"""
import json

import kubernetes

from tests.rest.test_python_client import _api_client


def _configmaps(kubectl, namespace, *names_labels):
    for name, app in names_labels:
        kubectl("create", "configmap", name, "-n", namespace)
        kubectl("label", "configmap", name, f"app={app}", "-n", namespace)


def _names(kubectl, namespace, plural="configmaps"):
    return sorted(item["metadata"]["name"] for item in kubectl.json("get", plural, "-n", namespace)["items"])


def test_kubectl_delete_all_and_by_label(kubectl, namespace):
    _configmaps(kubectl, namespace, ("a1", "a"), ("a2", "a"), ("b1", "b"))
    kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox:local"}]}}))
    assert "deleted" in kubectl("delete", "configmaps", "-l", "app=a", "-n", namespace).stdout
    left = _names(kubectl, namespace)
    assert "b1" in left and not {"a1", "a2"} & set(left)
    assert 'pod "p" deleted' in kubectl("delete", "pods", "--all", "-n", namespace, "--wait=false").stdout


def test_collection_delete_by_selector_through_kubectl_raw(kubectl, namespace):
    _configmaps(kubectl, namespace, ("a1", "a"), ("a2", "a"), ("b1", "b"))
    url = f"/api/v1/namespaces/{namespace}/configmaps?labelSelector=app%3Da"
    dry = json.loads(kubectl("delete", "--raw", url + "&dryRun=All").stdout)
    assert dry["kind"] == "ConfigMapList" and sorted(i["metadata"]["name"] for i in dry["items"]) == ["a1", "a2"]
    assert {"a1", "a2", "b1"} <= set(_names(kubectl, namespace)), "a dry run deleted something"
    done = json.loads(kubectl("delete", "--raw", url).stdout)
    assert sorted(i["metadata"]["name"] for i in done["items"]) == ["a1", "a2"]
    left = set(_names(kubectl, namespace))
    assert "b1" in left and not {"a1", "a2"} & left
    by_field = f"/api/v1/namespaces/{namespace}/configmaps?fieldSelector=metadata.name%3Db1"
    assert [i["metadata"]["name"] for i in json.loads(kubectl("delete", "--raw", by_field).stdout)["items"]] == ["b1"]


def test_python_client_delete_collection_needs_the_deletecollection_verb(kubectl, server, namespace):
    """A user whose Role grants `delete` may not delete the collection; `deletecollection` lets it."""
    _configmaps(kubectl, namespace, ("x1", "x"), ("y1", "y"))
    kubectl("create", "role", "deleter", "--verb=delete,list", "--resource=configmaps", "-n", namespace)
    kubectl("create", "rolebinding", "carol-deletes", "--role=deleter", "--user=carol", "-n", namespace)
    assert kubectl("auth", "can-i", "deletecollection", "configmaps", "-n", namespace, "--as=carol",
                   ok=False).stdout.startswith("no")
    api = _api_client(server)
    api.default_headers = {**api.default_headers, "Impersonate-User": "carol"}
    core = kubernetes.client.CoreV1Api(api)
    try:
        try:
            core.delete_collection_namespaced_config_map(namespace, label_selector="app=x")
            raise AssertionError("deleted without deletecollection")
        except kubernetes.client.ApiException as e:
            assert e.status == 403
            assert 'cannot deletecollection resource "configmaps"' in json.loads(e.body)["message"]
        assert "x1" in _names(kubectl, namespace)
        kubectl("create", "role", "collector", "--verb=deletecollection", "--resource=configmaps", "-n", namespace)
        kubectl("create", "rolebinding", "carol-collects", "--role=collector", "--user=carol", "-n", namespace)
        assert kubectl("auth", "can-i", "deletecollection", "configmaps", "-n", namespace,
                       "--as=carol").stdout == "yes\n"
        core.delete_collection_namespaced_config_map(namespace, label_selector="app=x", grace_period_seconds=0)
        left = _names(kubectl, namespace)
        assert "x1" not in left and "y1" in left
    finally:
        api.close()


def test_discovery_lists_deletecollection(kubectl):
    resources = json.loads(kubectl("get", "--raw", "/api/v1").stdout)["resources"]
    assert "deletecollection" in next(r for r in resources if r["name"] == "configmaps")["verbs"]
