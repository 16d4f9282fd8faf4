"""The dashboard's calls over HTTPS, as its script makes them: the page's files without a token, the feed
and a trace with one, and RBAC deciding what a caller's feed holds."""
import asyncio
import itertools
import json

from controlplane.dashboard import resources
from tests.dashboard.conftest import pod_manifest

_numbers = itertools.count()


async def _feed_lines(rest, token="admin"):
    """An open feed: (session, response, async iterator of its JSON lines)."""
    session = rest.session(token)
    response = await session.get("/dashboard/api/feed")

    async def lines():
        async for raw in response.content:
            yield json.loads(raw)
    return session, response, lines()


async def _token_for(rest, name: str, rules: list[dict], *, cluster: bool) -> str:
    """A token of a new service account in default holding only `rules`, cluster-wide or in default."""
    rbac = "/apis/rbac.authorization.k8s.io/v1" + ("" if cluster else "/namespaces/default")
    role = "ClusterRole" if cluster else "Role"
    await rest.call("POST", "/api/v1/namespaces/default/serviceaccounts",
                    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})
    await rest.call("POST", f"{rbac}/{role.lower()}s", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": role, "metadata": {"name": name}, "rules": rules})
    await rest.call("POST", f"{rbac}/{role.lower()}bindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": f"{role}Binding", "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role, "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": "default"}]})
    _, token = await rest.call("POST", f"/api/v1/namespaces/default/serviceaccounts/{name}/token",
                               {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
    return token["status"]["token"]


async def test_page_files_are_served_without_a_token_with_a_strict_policy(rest):
    async with rest.session(token=None) as session:
        async with session.get("/dashboard", allow_redirects=False) as response:
            assert response.status == 301 and response.headers["Location"] == "/dashboard/"
        async with session.get("/dashboard/") as response:
            page = await response.text()
            assert response.status == 200 and response.content_type == "text/html"
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            assert '<script src="dashboard.js"' in page
        async with session.get("/dashboard/dashboard.js") as response:
            assert response.status == 200 and response.content_type == "text/javascript"
        for path in ("/dashboard/api/feed", "/dashboard/api/trace?namespace=default&name=x"):
            async with session.get(path) as response:
                assert response.status == 401, path


async def test_feed_syncs_every_resource_then_streams_a_new_pod(rest):
    session, response, lines = await _feed_lines(rest)
    try:
        assert response.status == 200
        synced = {}
        while len(synced) < len(resources.FOLLOWED):
            line = await asyncio.wait_for(anext(lines), 10)
            assert line["type"] == "SYNC", line
            synced[line["resource"]] = line["items"]
        assert any(s["metadata"]["name"] == "kubernetes" for s in synced["services"])
        name = f"fed{next(_numbers)}"
        await rest.call("POST", "/api/v1/namespaces/default/pods", pod_manifest(name))
        while True:
            line = await asyncio.wait_for(anext(lines), 10)
            if line["resource"] == "pods" and line["object"]["metadata"]["name"] == name:
                break
        assert line["type"] == "ADDED"
    finally:
        response.close()
        await session.close()


async def test_feed_holds_only_what_rbac_lets_the_caller_read(rest):
    """A service account allowed to list and watch nodes only: nodes are synced, every other resource is a
    403 line for that resource alone, and the feed stays open."""
    token = await _token_for(rest, f"viewer{next(_numbers)}",
                             [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list", "watch"]}], cluster=True)
    session, response, lines = await _feed_lines(rest, token)
    try:
        seen = {}
        while len(seen) < len(resources.FOLLOWED):
            line = await asyncio.wait_for(anext(lines), 10)
            seen[line["resource"]] = line
        assert seen["nodes"]["type"] == "SYNC"
        refused = {r: line["code"] for r, line in seen.items() if r != "nodes"}
        assert refused == {r: 403 for r in resources.FOLLOWED if r != "nodes"}
        assert "pods" in seen["pods"]["message"]
        assert not response.content.at_eof()
    finally:
        response.close()
        await session.close()


async def test_trace_is_cox_traces_timeline_and_names_a_bad_field(rest):
    name = f"traced{next(_numbers)}"
    await rest.call("POST", "/api/v1/namespaces/default/pods", pod_manifest(name))
    _, trace = await rest.call("GET", f"/dashboard/api/trace?namespace=default&name={name}")
    assert trace["name"] == name and trace["phase"] == "Pending" and trace["node"] == ""
    assert trace["steps"][0]["component"] == "api-server"
    assert trace["steps"][0]["what"] == f"Created: pod default/{name} stored"
    code, missing = await rest.call("GET", "/dashboard/api/trace?namespace=default&name=nosuchpod", ok=False)
    assert code == 404 and "nosuchpod" in missing["message"]
    code, bad = await rest.call("GET", "/dashboard/api/trace?namespace=default&name=a/../b", ok=False)
    assert code == 400 and bad["message"].startswith("name: ")
    code, bad = await rest.call("GET", "/dashboard/api/trace?name=x", ok=False)
    assert (code, bad["message"]) == (400, "namespace: required")
    code, _ = await rest.call("POST", "/dashboard/api/feed", {}, ok=False)
    assert code == 405


async def test_trace_has_a_proxy_step_per_node_and_shows_the_rest_when_proxyrules_fails(rest):
    """Each Node gets a kube-proxy step from pods/proxyrules: here a Node whose agent never published where
    it listens, so its step says why it gave no answer, and the trace still holds the pod's other steps. A
    caller who may read the pod, its Events and Endpoints but not pods/proxyrules gets the trace with one
    step saying the rules are unknown, and why."""
    node, name = f"ghost{next(_numbers)}", f"proxied{next(_numbers)}"
    await rest.call("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}})
    try:
        await rest.call("POST", "/api/v1/namespaces/default/pods", pod_manifest(name))
        _, trace = await rest.call("GET", f"/dashboard/api/trace?namespace=default&name={name}")
        proxied = [s for s in trace["steps"] if s["component"] == f"kube-proxy ({node})"]
        assert proxied == [{"time": "-", "since": "-", "component": f"kube-proxy ({node})",
                            "what": f'no answer: node "{node}" has not published its agent certificate'}]
        assert trace["steps"][0]["what"] == f"Created: pod default/{name} stored"
    finally:
        await rest.call("DELETE", f"/api/v1/nodes/{node}")

    token = await _token_for(rest, f"reader{next(_numbers)}", [
        {"apiGroups": [""], "resources": ["pods", "events", "endpoints"], "verbs": ["get", "list"]}], cluster=False)
    _, trace = await rest.call("GET", f"/dashboard/api/trace?namespace=default&name={name}", token=token)
    assert trace["steps"][0]["what"] == f"Created: pod default/{name} stored"
    unknown, = [s for s in trace["steps"] if s["component"] == "kube-proxy"]
    assert unknown["what"].startswith("rules applied: unknown (403: ") and "proxyrules" in unknown["what"]
