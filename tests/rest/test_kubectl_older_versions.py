"""autoscaling/v1 HorizontalPodAutoscalers over REST (rest/olderversions.py): kubectl 1.32 creates and
applies them at v1, reads them back at v1, while the API serves and stores autoscaling/v2."""
import json

import yaml

from controlplane.api import versions
from controlplane.apiserver.rest import discovery

V1 = "horizontalpodautoscalers.v1.autoscaling"


def _v2_spec(kubectl, namespace: str, name: str) -> dict:
    return kubectl.json("get", "horizontalpodautoscalers.v2.autoscaling", name, "-n", namespace)["spec"]


def _cpu(percent: int) -> list[dict]:
    return [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                        "averageUtilization": percent}}}]


def test_autoscale_sends_v1_in_protobuf_and_it_is_stored_as_v2(kubectl, namespace):
    kubectl("create", "deployment", "web", "--image=busybox:local", "--replicas=1", "-n", namespace)
    assert "autoscaled" in kubectl("autoscale", "deployment", "web", "--cpu-percent=50", "--min=1", "--max=3",
                                   "-n", namespace).stdout
    assert _v2_spec(kubectl, namespace, "web")["metrics"] == _cpu(50)
    v1 = kubectl.json("get", V1, "web", "-n", namespace)
    assert v1["apiVersion"] == "autoscaling/v1"
    assert (v1["spec"]["targetCPUUtilizationPercentage"], v1["spec"]["maxReplicas"]) == (50, 3)
    assert "metrics" not in v1["spec"] and set(v1["status"]) >= {"currentReplicas", "desiredReplicas"}
    assert kubectl("get", "hpa", "web", "-n", namespace, "-o", "jsonpath={.apiVersion}").stdout == "autoscaling/v2"


def test_a_v1_manifest_applies_and_reapplies(kubectl, namespace):
    kubectl("create", "deployment", "api", "--image=busybox:local", "--replicas=1", "-n", namespace)
    manifest = yaml.safe_load(kubectl("autoscale", "deployment", "api", "--cpu-percent=40", "--max=4", "-n",
                                      namespace, "--dry-run=client", "-o", "yaml").stdout)
    assert manifest["apiVersion"] == "autoscaling/v1"
    assert "created" in kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(manifest)).stdout
    manifest["spec"] |= {"targetCPUUtilizationPercentage": 75, "maxReplicas": 6}
    assert "configured" in kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(manifest)).stdout
    spec = _v2_spec(kubectl, namespace, "api")
    assert (spec["metrics"], spec["maxReplicas"]) == (_cpu(75), 6)


def test_patches_at_v1_and_a_v1_watch(kubectl, namespace):
    kubectl("create", "deployment", "db", "--image=busybox:local", "--replicas=1", "-n", namespace)
    kubectl("autoscale", "deployment", "db", "--cpu-percent=50", "--max=3", "-n", namespace)
    kubectl("patch", V1, "db", "-n", namespace, "--type=merge", "-p", '{"spec":{"targetCPUUtilizationPercentage":80}}')
    assert _v2_spec(kubectl, namespace, "db")["metrics"] == _cpu(80)
    kubectl("patch", V1, "db", "-n", namespace, "-p", '{"spec":{"maxReplicas":5}}')   # strategic merge
    assert _v2_spec(kubectl, namespace, "db")["maxReplicas"] == 5
    refused = kubectl("patch", V1, "db", "-n", namespace, "--type=json", "-p", "[]", ok=False)
    assert refused.returncode != 0 and 'send "application/json-patch+json" to autoscaling/v2' in refused.stderr
    events = kubectl("get", "--raw", f"/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers"
                     "?watch=1&timeoutSeconds=1").stdout.splitlines()
    first = json.loads(events[0])
    assert first["type"] == "ADDED" and first["object"]["apiVersion"] == "autoscaling/v1"
    assert first["object"]["spec"]["targetCPUUtilizationPercentage"] == 80


def test_discovery_prefers_v2_and_lists_v1():
    autoscaling = discovery.group("autoscaling")
    assert autoscaling["preferredVersion"]["version"] == "v2"
    assert [v["version"] for v in autoscaling["versions"]] == ["v2", "v1"]
    assert {r["name"] for r in discovery.resources("autoscaling/v1")["resources"]} == {
        "horizontalpodautoscalers", "horizontalpodautoscalers/status"}
    item = next(i for i in discovery.aggregated(core=False)["items"] if i["metadata"]["name"] == "autoscaling")
    assert [v["version"] for v in item["versions"]] == ["v2", "v1"]
    assert item["versions"][1]["resources"][0]["responseKind"]["version"] == "v1"


def test_downgrade_keeps_what_v1_can_say():
    v2 = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x"},
          "spec": {"maxReplicas": 3, "behavior": {"scaleDown": {}}, "metrics": [
              {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization",
                                                                             "averageUtilization": 70}}},
              *_cpu(55)]},
          "status": {"currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {
              "averageUtilization": 12}}}], "conditions": [{"type": "AbleToScale"}], "currentReplicas": 2}}
    assert versions.downgrade(v2, "autoscaling/v1") == {
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x"},
        "spec": {"maxReplicas": 3, "targetCPUUtilizationPercentage": 55},
        "status": {"currentReplicas": 2, "desiredReplicas": 0, "currentCPUUtilizationPercentage": 12}}
    assert versions.downgrade({"kind": "Status"}, "autoscaling/v1") == {"kind": "Status"}
