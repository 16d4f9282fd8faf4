"""The pure parts of the façade: paths to routes, patches, errors to Status."""
import grpc
import pytest

from controlplane.api.errors import FieldError
from controlplane.api.kinds import KINDS
from controlplane.api import patch
from controlplane.apiserver.rest import paths, status


@pytest.mark.parametrize("path,method,watch,expected", [
    ("/api/v1/pods", "GET", "", ("Pod", "", "", "", "list")),
    ("/api/v1/pods", "GET", "1", ("Pod", "", "", "", "watch")),
    ("/api/v1/namespaces/a/pods", "POST", "", ("Pod", "a", "", "", "create")),
    ("/api/v1/namespaces/a/pods/p", "PATCH", "", ("Pod", "a", "p", "", "patch")),
    ("/api/v1/namespaces/a/pods/p/binding", "POST", "", ("Pod", "a", "p", "binding", "create")),
    ("/api/v1/namespaces/a/pods/p/eviction", "POST", "", ("Pod", "a", "p", "eviction", "create")),
    ("/api/v1/namespaces/a", "GET", "", ("Namespace", "", "a", "", "get")),
    ("/api/v1/namespaces/a/status", "PUT", "", ("Namespace", "", "a", "status", "update")),
    ("/apis/apps/v1/namespaces/a/deployments/d/scale", "GET", "", ("Deployment", "a", "d", "scale", "get")),
    ("/api/v1/nodes/n", "DELETE", "", ("Node", "", "n", "", "delete")),
])
def test_routes(path, method, watch, expected):
    route = paths.parse(path, method, watch=watch)
    assert (route.kind.name, route.namespace, route.name, route.subresource, route.verb) == expected


@pytest.mark.parametrize("path", ["/api/v2/pods", "/apis/apps/v1/pods", "/api/v1/widgets", "/x"])
def test_unknown_paths(path):
    with pytest.raises(paths.RouteError):
        paths.parse(path, "GET")


def test_a_method_a_collection_does_not_take():
    with pytest.raises(paths.MethodError):
        paths.parse("/api/v1/pods", "PUT")


def test_merge_patch_deletes_with_null_and_replaces_lists():
    assert patch.merge_patch({"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]},
                             {"a": None, "b": {"c": 5}, "l": [3]}) == {"b": {"c": 5, "d": 3}, "l": [3]}


def test_json_patch_operations_and_failures():
    doc = {"a": [1, 2], "b": {"c": 1}}
    assert patch.json_patch(doc, [{"op": "add", "path": "/a/-", "value": 3},
                                  {"op": "replace", "path": "/b/c", "value": 2},
                                  {"op": "move", "from": "/b/c", "path": "/d"},
                                  {"op": "test", "path": "/d", "value": 2}]) == {"a": [1, 2, 3], "b": {}, "d": 2}
    assert doc == {"a": [1, 2], "b": {"c": 1}}
    with pytest.raises(patch.PatchError, match="/x"):
        patch.json_patch(doc, [{"op": "remove", "path": "/x"}])
    with pytest.raises(patch.PatchError, match="differs"):
        patch.json_patch(doc, [{"op": "test", "path": "/b/c", "value": 9}])


def test_strategic_merge_patch_merges_containers_by_name_and_honours_directives():
    pod = KINDS["Pod"]
    live = {"spec": {"containers": [{"name": "a", "image": "x", "env": [{"name": "E", "value": "1"}]},
                                    {"name": "b", "image": "y"}],
                     "tolerations": [{"key": "k"}]},
            "metadata": {"finalizers": ["f1"]}}
    patched = patch.strategic_merge_patch(pod, live, {
        "spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                 "containers": [{"name": "a", "env": [{"name": "F", "value": "2"}]},
                                {"name": "b", "$patch": "delete"}],
                 "tolerations": [{"key": "other"}]},
        "metadata": {"finalizers": ["f2"]}})
    assert patched["spec"]["containers"] == [{"name": "a", "image": "x", "env": [{"name": "E", "value": "1"},
                                                                                  {"name": "F", "value": "2"}]}]
    assert patched["spec"]["tolerations"] == [{"key": "other"}]  # no merge key: replaced
    assert patched["metadata"]["finalizers"] == ["f1", "f2"]
    service = KINDS["Service"]
    ports = patch.strategic_merge_patch(service, {"spec": {"ports": [{"port": 80, "name": "a"}]}},
                                        {"spec": {"ports": [{"port": 80, "name": "b"}, {"port": 81}]}})
    assert ports["spec"]["ports"] == [{"port": 80, "name": "b"}, {"port": 81}]


def test_invalid_is_422_with_causes_and_not_found_names_the_resource():
    code, body = status.from_api_error(grpc.StatusCode.INVALID_ARGUMENT, 'Pod "p" is invalid: x: required',
                                       causes=[FieldError("x", "required")], kind=KINDS["Pod"], name="p")
    assert code == 422 and body["reason"] == "Invalid"
    assert body["details"] == {"name": "p", "kind": "Pod", "causes": [
        {"reason": "FieldValueInvalid", "message": "required", "field": "x"}]}
    code, body = status.from_api_error(grpc.StatusCode.NOT_FOUND, "deployments.apps \"d\" not found",
                                       kind=KINDS["Deployment"], name="d")
    assert code == 404 and body["details"] == {"name": "d", "group": "apps", "kind": "deployments"}
    assert status.from_api_error(grpc.StatusCode.ABORTED, "stale")[0] == 409
    assert status.from_api_error(grpc.StatusCode.OUT_OF_RANGE, "old")[1]["reason"] == "Expired"
