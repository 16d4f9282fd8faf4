"""Errors reach kubectl as Kubernetes Status objects: the message, the reason, the field."""
import base64
import json
import time

import pytest

BAD_POD = """
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  containers:
  - name: c
    image: busybox:local
    volumeDevices: [{name: d, devicePath: /dev/xvdb}]
"""


def test_not_found(kubectl, namespace):
    result = kubectl("get", "pod", "nope", "-n", namespace, ok=False)
    assert result.returncode == 1
    assert result.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'


def test_invalid_names_the_field_and_writes_nothing(kubectl, namespace):
    result = kubectl("create", "-n", namespace, "-f", "-", stdin=BAD_POD, ok=False)
    assert result.returncode == 1
    assert 'The Pod "bad" is invalid' in result.stderr
    assert "spec.containers[0].volumeDevices: unknown field" in result.stderr
    assert "NotFound" in kubectl("get", "pod", "bad", "-n", namespace, ok=False).stderr


def test_validation_error_of_a_required_field(kubectl, namespace):
    missing_image = BAD_POD.replace("    image: busybox:local\n", "").replace(
        "    volumeDevices: [{name: d, devicePath: /dev/xvdb}]\n", "")
    result = kubectl("apply", "-n", namespace, "-f", "-", stdin=missing_image, ok=False)
    assert "spec.containers[0].image" in result.stderr and "required" in result.stderr


def test_already_exists(kubectl, namespace):
    cm = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "twice"}})
    kubectl("create", "-n", namespace, "-f", "-", stdin=cm)
    result = kubectl("create", "-n", namespace, "-f", "-", stdin=cm, ok=False)
    assert 'Error from server (AlreadyExists)' in result.stderr and '"twice" already exists' in result.stderr


def test_stale_resource_version_is_a_conflict(kubectl, namespace):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cas"}, "data": {"a": "1"}}
    kubectl("create", "-n", namespace, "-f", "-", stdin=json.dumps(cm))
    current = kubectl.json("get", "cm", "cas", "-n", namespace)
    kubectl("patch", "cm", "cas", "-n", namespace, "-p", '{"data":{"a":"2"}}')
    result = kubectl("replace", "-n", namespace, "-f", "-", stdin=json.dumps(current), ok=False)
    assert "Error from server (Conflict)" in result.stderr and "the object has been modified" in result.stderr


def test_a_bad_token_is_unauthorized(kubectl):
    result = kubectl("get", "pods", "--token", "not-a-token", ok=False)
    assert result.returncode == 1
    assert "Unauthorized" in result.stderr or "must be logged in" in result.stderr


def test_namespace_mismatch_is_refused(kubectl, namespace):
    cm = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "default"}})
    result = kubectl("create", "-n", namespace, "-f", "-", stdin=cm, ok=False)
    assert result.returncode == 1 and "namespace" in result.stderr


@pytest.mark.parametrize("path", ["/api/v1/namespaces/default/pods?labelSelector=a%20in%20(", 
                                  "/api/v1/namespaces/default/pods?limit=x"])
def test_bad_query_is_a_bad_request(kubectl, path):
    result = kubectl("get", "--raw", path, ok=False)
    assert "BadRequest" in result.stderr or "Bad Request" in result.stderr


def test_a_service_account_is_authorized_as_over_grpc(kubectl, namespace):
    """The same authorization as the gRPC handlers: a service account bound to `view` reads its namespace,
    Secrets excepted, and nothing before the binding."""
    def token():
        found = kubectl("get", "secret", "default-token", "-n", namespace, "-o", "jsonpath={.data.token}", ok=False)
        return base64.b64decode(found.stdout).decode() if found.returncode == 0 and found.stdout else None
    deadline = time.monotonic() + 30
    while (sa_token := token()) is None and time.monotonic() < deadline:
        time.sleep(0.3)
    assert sa_token, "the serviceaccount controller made no token"
    unbound = kubectl("get", "configmaps", "-n", namespace, "--token", sa_token, ok=False)
    assert unbound.returncode == 1 and "Forbidden" in unbound.stderr
    kubectl("create", "rolebinding", "default-view", "--clusterrole=view", f"--serviceaccount={namespace}:default",
            "-n", namespace)  # sent as Kubernetes' protobuf
    deadline = time.monotonic() + 10
    while kubectl("get", "configmaps", "-n", namespace, "--token", sa_token, ok=False).returncode != 0:
        assert time.monotonic() < deadline, "the binding never took effect"
        time.sleep(0.2)
    denied = kubectl("get", "secrets", "-n", namespace, "--token", sa_token, ok=False)
    assert denied.returncode == 1
    assert "Error from server (Forbidden)" in denied.stderr and "cannot list" in denied.stderr
    write = kubectl("label", "ns", namespace, "x=y", "--token", sa_token, ok=False)
    assert "Forbidden" in write.stderr
