"""`kubectl top` against the server: metrics.k8s.io/v1beta1 (metrics-server's API) served from the stored
NodeMetrics and PodMetrics, found by discovery, by both kubectls.

The usage objects are written here as a node's agent writes them (the agent's
own measuring is tests/metrics/test_top.py's), so the figures are exact."""
import itertools
import json

import pytest
import yaml

_numbers = itertools.count()


def _pod_metrics(namespace: str, name: str, containers: dict[str, tuple[str, str]]) -> dict:
    return {"apiVersion": "metrics.coxswain.io/v1beta1", "kind": "PodMetrics",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "timestamp": "2026-01-01T00:00:00Z", "window": "15s",
            "containers": [{"name": c, "usage": {"cpu": cpu, "memory": memory}}
                           for c, (cpu, memory) in containers.items()]}


def _objects(node: str, namespace: str) -> str:
    """A Node with its NodeMetrics, pod web (two containers) with its PodMetrics, and db's PodMetrics."""
    capacity = {"cpu": "2", "memory": "4Gi"}
    objects = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node},
         "status": {"allocatable": capacity, "capacity": capacity}},
        {"apiVersion": "metrics.coxswain.io/v1beta1", "kind": "NodeMetrics", "metadata": {"name": node},
         "timestamp": "2026-01-01T00:00:00Z", "window": "15s", "usage": {"cpu": "500m", "memory": "1Gi"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": namespace,
                                                         "labels": {"app": "web"}},
         "spec": {"containers": [{"name": "main", "image": "busybox"}, {"name": "side", "image": "busybox"}]}},
        _pod_metrics(namespace, "web", {"main": ("120m", "30Mi"), "side": ("5m", "2Mi")}),
        _pod_metrics(namespace, "db", {"main": ("7m", "64Mi")}),
    ]
    return yaml.safe_dump_all(objects)


def _rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


@pytest.mark.parametrize("which", ["kubectl", "newer_kubectl"])
def test_kubectl_top_nodes_and_pods(which, request, namespace):
    run = request.getfixturevalue(which)
    node = f"topnode{next(_numbers)}{which[0]}"
    run("apply", "-f", "-", stdin=_objects(node, namespace))
    assert _rows(run("top", "node", node).stdout) == [
        ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"], [node, "500m", "25%", "1024Mi", "25%"]]
    assert _rows(run("top", "pods", "-n", namespace).stdout) == [
        ["NAME", "CPU(cores)", "MEMORY(bytes)"], ["db", "7m", "64Mi"], ["web", "125m", "32Mi"]]
    assert _rows(run("top", "pods", "-n", namespace, "-l", "app=web", "--containers").stdout) == [
        ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"], ["web", "main", "120m", "30Mi"], ["web", "side", "5m", "2Mi"]]
    assert ["db", "7m", "64Mi"] in _rows(run("top", "pods", "-A").stdout.replace(namespace, ""))
    run("delete", "node", node)   # the NodeMetrics stays: nothing owns it here


def test_metrics_k8s_io_is_discovered_and_answers_as_metrics_server(kubectl, namespace):
    resources = _rows(kubectl("api-resources", "--api-group=metrics.k8s.io", "--no-headers").stdout)
    assert resources == [["nodes", "metrics.k8s.io/v1beta1", "false", "NodeMetrics"],
                         ["pods", "metrics.k8s.io/v1beta1", "true", "PodMetrics"]]
    node = f"topnode{next(_numbers)}"
    kubectl("apply", "-f", "-", stdin=_objects(node, namespace))
    listed = json.loads(kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods").stdout)
    assert listed["apiVersion"] == "metrics.k8s.io/v1beta1" and listed["kind"] == "PodMetricsList"
    assert {item["apiVersion"] for item in listed["items"]} == {"metrics.k8s.io/v1beta1"}
    refused = kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes?watch=1", ok=False)
    assert refused.returncode != 0 and "serves get and list only, not watch" in refused.stderr
    missing = kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/none", ok=False)
    assert 'podmetrics "none" not found' in missing.stderr
    unknown = kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/namespaces/default/nodes", ok=False)
    assert "NotFound" in unknown.stderr or "not find" in unknown.stderr
    kubectl("delete", "node", node)
