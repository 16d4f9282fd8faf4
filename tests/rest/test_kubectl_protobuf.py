"""kubectl's typed requests, which it sends as Kubernetes' protobuf (`create KIND`, `run`, `expose`, `scale`)."""
import base64
import json

import pytest

from controlplane.api.kinds import by_name
from controlplane.apiserver.rest import k8sproto


def test_create_deployment_keeps_what_was_set_and_only_that(kubectl, namespace):
    assert kubectl("create", "deployment", "web", "--image=busybox:local", "--replicas=0", "--port=80",
                   "-n", namespace, "--", "sleep", "3600").stdout == "deployment.apps/web created\n"
    spec = kubectl.json("get", "deploy", "web", "-n", namespace)["spec"]
    assert spec["replicas"] == 0  # an explicit zero survives; unset fields Kubernetes writes as zeros do not
    container = spec["template"]["spec"]["containers"][0]
    assert (container["name"], container["command"], container["ports"]) == \
        ("busybox", ["sleep", "3600"], [{"containerPort": 80, "protocol": "TCP"}])
    assert kubectl("scale", "deploy/web", "--replicas=2", "-n", namespace).stdout == "deployment.apps/web scaled\n"
    assert kubectl.json("get", "deploy", "web", "-n", namespace)["spec"]["replicas"] == 2


def test_run_expose_and_the_create_generators(kubectl, namespace):
    kubectl("run", "one", "--image=busybox:local", "--port=8080", "--env=A=b", "--labels=app=one", "-n", namespace,
            "--", "sleep", "10")
    pod = kubectl.json("get", "pod", "one", "-n", namespace)
    assert pod["metadata"]["labels"] == {"app": "one"}
    assert pod["spec"]["containers"][0]["env"] == [{"name": "A", "value": "b"}]
    assert kubectl("expose", "pod", "one", "--port=80", "--target-port=8080", "-n", namespace).stdout == \
        "service/one exposed\n"
    service = kubectl.json("get", "svc", "one", "-n", namespace)["spec"]
    assert (service["selector"], service["ports"][0]["targetPort"]) == ({"app": "one"}, 8080)
    for args in (["configmap", "cm", "--from-literal=a=1"], ["secret", "generic", "s", "--from-literal=p=pw"],
                 ["job", "j", "--image=busybox:local", "--", "true"],
                 ["cronjob", "cj", "--image=busybox:local", "--schedule=*/5 * * * *", "--", "true"],
                 ["role", "r", "--verb=get", "--resource=pods"], ["serviceaccount", "sa"],
                 ["service", "clusterip", "svc", "--tcp=80:8080"]):
        kubectl("create", "-n", namespace, *args)
    secret = kubectl.json("get", "secret", "s", "-n", namespace)
    assert base64.b64decode(secret["data"]["p"]) == b"pw"  # a map of bytes
    assert kubectl.json("get", "cm", "cm", "-n", namespace)["data"] == {"a": "1"}
    assert kubectl.json("get", "cronjob", "cj", "-n", namespace)["spec"]["schedule"] == "*/5 * * * *"


def test_a_field_coxswain_lacks_is_refused_by_name(kubectl, namespace):
    refused = kubectl("run", "two", "--image=busybox:local", "-n", namespace,
                      '--overrides={"spec": {"containers": [{"name": "two", "image": "busybox:local", '
                      '"volumeDevices": [{"name": "d", "devicePath": "/dev/xvdb"}]}]}}', ok=False)
    assert refused.returncode == 1 and "spec.containers[0].volumeDevices: unknown field" in refused.stderr


def test_lifecycle_hooks_and_a_sidecar_cross_the_wire(kubectl, namespace):
    """Container.lifecycle (12) and restartPolicy (24) in Kubernetes' numbering arrive as ours."""
    kubectl("run", "hooked", "--image=busybox:local", "-n", namespace,
            '--overrides={"spec": {"initContainers": [{"name": "side", "image": "busybox:local", '
            '"restartPolicy": "Always"}], "containers": [{"name": "hooked", "image": "busybox:local", '
            '"lifecycle": {"preStop": {"sleep": {"seconds": 1}}}}]}}')
    spec = kubectl.json("get", "pod", "hooked", "-n", namespace)["spec"]
    assert spec["initContainers"][0]["restartPolicy"] == "Always"
    assert spec["containers"][0]["lifecycle"] == {"preStop": {"sleep": {"seconds": 1}}}


def test_pod_fields_kubectl_sends_as_protobuf_arrive_whole(kubectl, namespace):
    overrides = {"spec": {
        "hostAliases": [{"ip": "198.18.0.7", "hostnames": ["db"]}], "shareProcessNamespace": True,
        "imagePullSecrets": [{"name": "registry"}],
        "securityContext": {"fsGroup": 2000, "supplementalGroups": [3000], "fsGroupChangePolicy": "OnRootMismatch"},
        "volumes": [{"name": "info", "downwardAPI": {"items": [{"path": "labels",
                                                                "fieldRef": {"fieldPath": "metadata.labels"}}]}}],
        "containers": [{"name": "three", "image": "busybox:local"}]}}
    kubectl("run", "three", "--image=busybox:local", "-n", namespace, f"--overrides={json.dumps(overrides)}")
    spec = kubectl.json("get", "pod", "three", "-n", namespace)["spec"]
    assert spec["hostAliases"] == overrides["spec"]["hostAliases"] and spec["shareProcessNamespace"] is True
    assert spec["imagePullSecrets"] == [{"name": "registry"}]
    assert spec["securityContext"] == overrides["spec"]["securityContext"]
    assert spec["volumes"][0]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"] == "metadata.labels"


def _field(number: int, payload: bytes) -> bytes:
    return bytes([number << 3 | 2, len(payload)]) + payload


def _unknown(api_version: bytes, kind: bytes, raw: bytes) -> bytes:
    return k8sproto.MAGIC + _field(1, _field(1, api_version) + _field(2, kind)) + _field(2, raw)


def test_the_wire_reader_on_bodies_made_by_hand():
    """A ConfigMap as Kubernetes writes it: metadata (1) with name (1) and an unset, always-written
    generateName (2); data (2) a map entry {key 1, value 2}."""
    metadata = _field(1, _field(1, b"cm") + _field(2, b""))
    body = _unknown(b"v1", b"ConfigMap", metadata + _field(2, _field(1, b"k") + _field(2, b"v")))
    decoded = k8sproto.decode(body, descriptor_for=lambda *_: by_name("ConfigMap").message.DESCRIPTOR)
    assert decoded == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"k": "v"}}
    with pytest.raises(k8sproto.WireError, match="start with"):
        k8sproto.decode(b"{}")
    with pytest.raises(k8sproto.WireError, match="ConfigMap: unknown protobuf field number 15"):
        k8sproto.decode(_unknown(b"v1", b"ConfigMap", _field(15, b"")))
    with pytest.raises(k8sproto.WireError, match='kind "Nothing" has no protobuf form'):
        k8sproto.decode(_unknown(b"v1", b"Nothing", b""))
    assert json.loads(json.dumps(k8sproto.decode(body)))["metadata"] == {"name": "cm", "generateName": ""}


def test_auth_can_i_and_impersonation(kubectl, namespace):
    assert kubectl("auth", "can-i", "create", "deployments.apps", "-n", namespace).stdout == "yes\n"
    kubectl("create", "role", "reader", "--verb=get,list", "--resource=pods", "-n", namespace)
    kubectl("create", "rolebinding", "bob-reads", "--role=reader", "--user=bob", "-n", namespace)
    assert kubectl("auth", "can-i", "list", "pods", "-n", namespace, "--as=bob").stdout == "yes\n"
    denied = kubectl("auth", "can-i", "delete", "pods", "-n", namespace, "--as=bob", ok=False)
    assert (denied.returncode, denied.stdout) == (1, "no - no RBAC rule allows it\n")
    assert kubectl("get", "pods", "-n", namespace, "--as=bob").returncode == 0
    refused = kubectl("get", "secrets", "-n", namespace, "--as=bob", ok=False)
    assert refused.returncode == 1 and 'User "bob" cannot list resource "secrets"' in refused.stderr
    url = kubectl("auth", "can-i", "get", "/healthz", ok=False)
    assert url.returncode == 1 and url.stdout.startswith("no")


def test_create_token(kubectl, namespace):
    kubectl("create", "serviceaccount", "robot", "-n", namespace)
    token = kubectl("create", "token", "robot", "-n", namespace, "--duration=10m").stdout.strip()
    assert kubectl("auth", "can-i", "list", "pods", "-n", namespace, "--token", token, ok=False
                   ).stdout.startswith("no")  # the token is the service account's, which nothing grants
    refused = kubectl("create", "token", "robot", "-n", namespace, "--duration=1s", ok=False)
    assert refused.returncode == 1 and "expirationSeconds: must be between 600" in refused.stderr


def test_drain_evicts_the_nodes_pods(kubectl, namespace):
    node = f"{namespace}-node"
    kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}}))
    kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "on-node"},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox:local"}]}}))
    drained = kubectl("drain", node, "--force", "--grace-period=0", "--timeout=60s", timeout=90)
    assert "pod/on-node evicted" in drained.stdout and f"node/{node} drained" in drained.stdout
    assert kubectl("get", "pod", "on-node", "-n", namespace, ok=False).returncode == 1
    assert kubectl.json("get", "node", node)["spec"]["unschedulable"] is True
    kubectl("delete", "node", node)
