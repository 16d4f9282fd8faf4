"""kubectl finds every kind through discovery, as it does on Kubernetes."""
import json
import re

from controlplane.api.kinds import KINDS
from tests.rest.conftest import KUBECTL_MINOR, Kubectl


def test_the_pinned_kubectl_is_the_one_on_the_machine(kubectl):
    version = json.loads(kubectl("version", "--client", "-o", "json").stdout)["clientVersion"]
    assert f'{version["major"]}.{version["minor"].rstrip("+")}' == KUBECTL_MINOR


def test_kubectl_version_reports_the_server(kubectl):
    server = json.loads(kubectl("version", "-o", "json").stdout)["serverVersion"]
    assert "coxswain" in server["gitVersion"]


def test_api_resources_lists_every_kind_with_short_names_and_scope(kubectl):
    lines = kubectl("api-resources", "--no-headers").stdout.splitlines()
    rows = {(line.split()[0], line.split()[-3]): line.split() for line in lines}
    # and metrics-server's two, served from NodeMetrics and PodMetrics (rest/metricsapi.py)
    assert set(rows) == {(k.plural, k.api_version) for k in KINDS.values()} | {
        ("nodes", "metrics.k8s.io/v1beta1"), ("pods", "metrics.k8s.io/v1beta1")}
    for kind in KINDS.values():
        row = rows[kind.plural, kind.api_version]
        assert row[-1] == kind.name
        assert row[-2] == str(kind.namespaced).lower()
        assert row[-3] == kind.api_version
        for short in kind.short_names:
            assert short in row


def test_api_resources_verbs_and_subresources(kubectl):
    listed = json.loads(kubectl("get", "--raw", "/apis/apps/v1").stdout)
    by_name = {r["name"]: r for r in listed["resources"]}
    assert set(by_name["deployments"]["verbs"]) >= {"create", "get", "list", "watch", "patch", "delete"}
    assert by_name["deployments/scale"]["kind"] == "Scale"
    assert "deployments/status" in by_name
    wide = kubectl("api-resources", "-o", "wide", "--api-group=apps").stdout
    assert re.search(r"deployments\s+deploy\s+apps/v1\s+true\s+Deployment\s+.*watch", wide)


def test_short_names_and_categories_resolve(kubectl, namespace):
    assert "No resources found" in kubectl("get", "po,svc,deploy,rs", "-n", namespace).stderr
    assert "No resources found" in kubectl("get", "all", "-n", namespace).stderr


def test_an_unknown_path_is_a_404_status(kubectl):
    result = kubectl("get", "--raw", "/apis/nope/v1/things", ok=False)
    assert result.returncode != 0
    assert "NotFound" in result.stderr or "not find" in result.stderr


def test_explain_walks_the_schema_made_from_the_messages(kubectl):
    text = kubectl("explain", "pod.spec.containers").stdout
    assert "FIELD: containers <[]Container>" in text
    assert "image\t<string>" in text and "ports\t<[]ContainerPort>" in text
    ports = kubectl("explain", "deployment.spec.template.spec.containers.ports.containerPort").stdout
    assert "<integer>" in ports


def test_kubectl_takes_aggregated_discovery_in_two_requests(kubectl, tmp_path):
    fresh = Kubectl(kubectl.kubeconfig, tmp_path)  # an empty discovery cache
    result = fresh("api-resources", "-v=6")
    requested = re.findall(r"GET https://\S+?(/\S*?)\?", result.stderr)
    assert requested == ["/api", "/apis"]
    assert "deployments" in result.stdout
