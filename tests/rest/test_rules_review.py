"""`kubectl auth can-i --list`: a SelfSubjectRulesReview answered from the rules that authorize requests."""
import json

import pytest


def _rows(output: str) -> dict[str, str]:
    """can-i --list's table as {resource or URL: verbs}."""
    rows = {}
    for line in output.splitlines()[1:]:
        rows[line.split()[0]] = line.rsplit("[", 1)[-1] if "[" in line else ""
    return rows


@pytest.mark.parametrize("which", ["kubectl", "newer_kubectl"])
def test_can_i_list_names_the_rules_bound_to_the_user(request, namespace, which):
    kubectl = request.getfixturevalue(which)
    admin = kubectl("auth", "can-i", "--list", "-n", namespace).stdout
    assert _rows(admin)["*.*"] == "*]"
    kubectl("create", "role", "lister", "--verb=get,list", "--resource=pods,deployments.apps", "-n", namespace)
    kubectl("create", "role", "one-map", "--verb=get", "--resource=configmaps", "--resource-name=settings",
            "-n", namespace)
    for role in ("lister", "one-map"):
        kubectl("create", "rolebinding", f"dave-{role}", f"--role={role}", "--user=dave", "-n", namespace)
    rows = _rows(kubectl("auth", "can-i", "--list", "-n", namespace, "--as=dave").stdout)
    assert rows["pods"] == "get list]" and rows["deployments.apps"] == "get list]"
    assert rows["configmaps"] == "get]"
    assert "*.*" not in rows
    elsewhere = _rows(kubectl("auth", "can-i", "--list", "-n", "default", "--as=dave").stdout)
    assert "pods" not in elsewhere, "a Role's rules hold only in its namespace"


def test_the_review_as_json(kubectl, namespace):
    """The raw answer: resource rules with resourceNames, and a missing namespace named as the field."""
    kubectl("create", "role", "one-map", "--verb=get", "--resource=configmaps", "--resource-name=settings",
            "-n", namespace)
    kubectl("create", "rolebinding", "erin", "--role=one-map", "--user=erin", "-n", namespace)
    kubectl("create", "clusterrole", "metrics-reader", "--verb=get", "--non-resource-url=/metrics")
    kubectl("create", "clusterrolebinding", f"erin-metrics-{namespace}", "--clusterrole=metrics-reader",
            "--user=erin")
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": namespace}}
    url = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
    answer = json.loads(kubectl("create", "--as=erin", "--raw", url, "-f", "-", stdin=json.dumps(body)).stdout)
    assert {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["settings"]} \
        in answer["status"]["resourceRules"]
    assert {"verbs": ["get"], "nonResourceURLs": ["/metrics"]} in answer["status"]["nonResourceRules"]
    assert answer["status"]["incomplete"] is False
    refused = kubectl("create", "--raw", url, "-f", "-", stdin=json.dumps({**body, "spec": {}}), ok=False)
    assert refused.returncode == 1 and "spec.namespace: required" in refused.stderr
