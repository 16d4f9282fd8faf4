"""kubectl apply --server-side: what a manager stops applying goes; what others set stays."""
import json


def _deployment(*, labels: dict, env: list, extra_container: bool) -> str:
    containers = [{"name": "c", "image": "busybox:local", "env": env}]
    if extra_container:
        containers.append({"name": "d", "image": "busybox:local"})
    return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ssa", "labels": labels},
                       "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "ssa"}},
                                "template": {"metadata": {"labels": {"app": "ssa"}},
                                             "spec": {"containers": containers}}}})


FULL = _deployment(labels={"a": "1", "b": "2"}, env=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                   extra_container=True)
SMALLER = _deployment(labels={"a": "1"}, env=[{"name": "A", "value": "1"}], extra_container=False)


def _state(kubectl, namespace) -> tuple:
    obj = kubectl.json("get", "deploy", "ssa", "-n", namespace)
    containers = obj["spec"]["template"]["spec"]["containers"]
    return obj["metadata"]["labels"], [c["name"] for c in containers], containers[0].get("env")


def test_dropped_fields_are_removed_and_other_managers_fields_kept(kubectl, namespace):
    kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=FULL)
    kubectl("label", "deploy", "ssa", "-n", namespace, "set-by-hand=yes")
    kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=SMALLER)
    assert _state(kubectl, namespace) == ({"a": "1", "set-by-hand": "yes"}, ["c"], [{"name": "A", "value": "1"}])
    kubectl("apply", "--server-side", "--field-manager=other-tool", "-n", namespace, "-f", "-", stdin=FULL)
    kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=SMALLER)  # kubectl's own: unchanged
    labels, names, _ = _state(kubectl, namespace)
    assert labels == {"a": "1", "b": "2", "set-by-hand": "yes"} and names == ["c", "d"]
    annotations = kubectl.json("get", "deploy", "ssa", "-n", namespace)["metadata"]["annotations"]
    assert json.loads(annotations["coxswain.io/applied-by-kubectl"])["metadata"]["labels"] == {"a": "1"}
    assert "coxswain.io/applied-by-other-tool" in annotations
