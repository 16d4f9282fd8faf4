"""The API server's /metrics on its REST port: behind TLS, a token and RBAC, and counting requests."""
import pytest

from controlplane.api.kinds import KINDS
from controlplane.api.v1.cluster_pb2 import TokenRequest
from controlplane.client.errors import ApiError
from tests.metrics.scrape import fetch, scrape


def metrics_url(server) -> str:
    return f"https://{server.rest_address}/metrics"


def pod(name: str):
    return KINDS["Pod"].new(metadata={"name": name, "namespace": "default"},
                            spec={"containers": [{"name": "c", "image": "busybox"}]})


async def test_requests_are_counted_by_verb_resource_and_code(apiserver, client):
    url, ca, token = metrics_url(apiserver), apiserver.credentials.ca_pem.decode(), apiserver.credentials.admin_token
    before = await scrape(url, token=token, ca=ca)
    await client.resource("Pod").create(pod("counted"))
    with pytest.raises(ApiError):
        await client.resource("Pod").get("missing", namespace="default")
    await client.resource("Pod").list(namespace="default")
    code, _ = await fetch(f"https://{apiserver.rest_address}/api/v1/namespaces/default/pods/counted",
                          token=token, ca=ca)
    assert code == 200
    after = await scrape(url, token=token, ca=ca)

    def moved(name, **labels):
        return after.value(name, **labels) - before.value(name, **labels)
    assert moved("apiserver_request_total", verb="POST", resource="pods", code="201") == 1
    assert moved("apiserver_request_total", verb="GET", resource="pods", code="404") == 1
    assert moved("apiserver_request_total", verb="GET", resource="pods", code="200") == 1   # the REST read
    assert moved("apiserver_request_total", verb="LIST", resource="pods", code="200") == 1
    assert moved("apiserver_request_duration_seconds_count", verb="POST", resource="pods") == 1
    assert after.value("apiserver_storage_objects", resource="pods") >= 1
    # The store's side of the same work, as kube-apiserver times its etcd calls.
    assert moved("etcd_requests_total", operation="create", type="pods") == 1
    assert moved("etcd_request_duration_seconds_count", operation="create", type="pods") == 1
    assert after.value("etcd_request_duration_seconds_sum", operation="create", type="pods") > 0
    assert after.value("apiserver_storage_objects", resource="namespaces") >= 4


async def test_watches_are_gauged_while_open(apiserver, client):
    url, ca, token = metrics_url(apiserver), apiserver.credentials.ca_pem.decode(), apiserver.credentials.admin_token
    before = (await scrape(url, token=token, ca=ca)).value("apiserver_longrunning_requests", verb="WATCH",
                                                            resource="configmaps")
    await client.resource("ConfigMap").create(KINDS["ConfigMap"].new(metadata={"name": "c", "namespace": "default"}))
    stream = client.resource("ConfigMap").watch(namespace="default")
    await anext(stream)   # the ADDED of the current object: the watch is open
    during = (await scrape(url, token=token, ca=ca)).value("apiserver_longrunning_requests", verb="WATCH",
                                                            resource="configmaps")
    await stream.aclose()
    assert during == before + 1


async def test_metrics_need_a_token_and_the_right_to_get_them(apiserver, client):
    url, ca = metrics_url(apiserver), apiserver.credentials.ca_pem.decode()
    code, body = await fetch(url, ca=ca)
    assert code == 401 and "apiserver_request_total" not in body

    await client.resource("ServiceAccount").create(KINDS["ServiceAccount"].new(
        metadata={"name": "prometheus", "namespace": "default"}))
    token = (await client.create_token(TokenRequest(namespace="default", service_account="prometheus"))).token
    code, body = await fetch(url, token=token, ca=ca)
    assert code == 403 and 'cannot get path' in body and "apiserver_request_total" not in body

    # Kubernetes' way to let a scraper in: the system:monitoring ClusterRole (a nonResourceURLs rule).
    await client.resource("ClusterRoleBinding").create(KINDS["ClusterRoleBinding"].new(
        metadata={"name": "prometheus"},
        role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:monitoring"},
        subjects=[{"kind": "ServiceAccount", "name": "prometheus", "namespace": "default"}]))
    page = await scrape(url, token=token, ca=ca)
    assert page.value("apiserver_request_total", resource="clusterrolebindings", verb="POST") >= 1


async def test_a_namespaced_binding_grants_no_metrics(apiserver, client):
    """nonResourceURLs rules are cluster-wide: a RoleBinding to system:monitoring gives nothing."""
    await client.resource("ServiceAccount").create(KINDS["ServiceAccount"].new(
        metadata={"name": "sneaky", "namespace": "default"}))
    await client.resource("RoleBinding").create(KINDS["RoleBinding"].new(
        metadata={"name": "sneaky", "namespace": "default"},
        role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:monitoring"},
        subjects=[{"kind": "ServiceAccount", "name": "sneaky", "namespace": "default"}]))
    token = (await client.create_token(TokenRequest(namespace="default", service_account="sneaky"))).token
    code, _ = await fetch(metrics_url(apiserver), token=token, ca=apiserver.credentials.ca_pem.decode())
    assert code == 403
