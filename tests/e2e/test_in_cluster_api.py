"""A pod finds the API through Service default/kubernetes and calls it with its mounted service account token.

The pod runs grpcurl (tests/support/images.py) exactly as README's "Reaching
the API from a pod" shows; the address is the Service's DNS name or its
ClusterIP, which the node's proxy sends to the API server's host address. It
gets exactly its service account's rights: nothing until RBAC binds `view` to
it in its namespace, then its own namespace's pods, but no Secrets and no
other namespace.
"""
import asyncio
import json
import secrets
from pathlib import Path

from controlplane.api.kinds import KINDS
from controlplane.apiserver.kubernetesservice import service_ip

from tests.e2e.workloads import exec_in_pod, running_pod
from tests.support.images import GRPCURL_IMAGE, ensure_grpcurl

ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_call() -> str:
    """The shell lines README.md gives under "Reaching the API from a pod"."""
    section = README.read_text().split("### Reaching the API from a pod", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def grpcurl(address: str, method: str, request: dict) -> str:
    return (f'grpcurl -cacert {ACCOUNT}/ca.crt -H "authorization: Bearer $(cat {ACCOUNT}/token)" '
            f"-d '{json.dumps(request)}' {address} coxswain.v1.{method} 2>&1")


async def test_a_pod_calls_the_api_with_its_service_account(cluster):
    namespace = f"e2e-api-{secrets.token_hex(3)}"
    node = cluster.nodes[-1]
    with cluster.docker(node, timeout=120) as api:
        await asyncio.to_thread(ensure_grpcurl, api)
    async with cluster.client() as client:
        await client.resource("Namespace").create(KINDS["Namespace"].new(metadata={"name": namespace}))
        try:
            await client.resource("Pod").create(KINDS["Pod"].new(
                metadata={"name": "caller", "namespace": namespace},
                spec={"node_name": node, "termination_grace_period_seconds": 1,
                      "containers": [{"name": "main", "image": GRPCURL_IMAGE, "command": ["sleep", "36000"]}]}))
            pod = await running_pod(client, "caller", namespace)
            kubernetes_ip = service_ip(cluster.state.service_cidr)   # the Service CIDR's first address

            def run(command: str) -> tuple[int, str]:
                return exec_in_pod(cluster, pod, command)

            code, out = await asyncio.to_thread(
                run, f"cat {ACCOUNT}/namespace; echo; echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT; "
                     f"grep -c 'BEGIN CERTIFICATE' {ACCOUNT}/ca.crt")
            assert code == 0 and out.split() == [namespace, f"{kubernetes_ip}:443", "1"], out

            code, out = await asyncio.to_thread(run, readme_call())
            assert code != 0 and "PermissionDenied" in out, f"an unbound service account read pods: {out}"
            await client.resource("RoleBinding").create(KINDS["RoleBinding"].new(
                metadata={"name": "default-view", "namespace": namespace},
                role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                subjects=[{"kind": "ServiceAccount", "name": "default", "namespace": namespace}]))
            await client.resource("Pod").list()     # the caches have seen the binding once this returns
            code, out = await asyncio.to_thread(run, readme_call())
            assert code == 0 and [p["metadata"]["name"] for p in json.loads(out)["items"]] == ["caller"], out
            for address in ("kubernetes.default.svc:443", "kubernetes.default.svc.cluster.local:443",
                            f"{kubernetes_ip}:443"):
                code, out = await asyncio.to_thread(run, grpcurl(address, "PodService/List", {"namespace": namespace}))
                assert code == 0, (address, out)
                assert [p["metadata"]["name"] for p in json.loads(out)["items"]] == ["caller"], address

            for method, request in (("SecretService/List", {"namespace": namespace}),
                                    ("PodService/List", {"namespace": "default"}),
                                    ("PodService/List", {})):
                code, out = await asyncio.to_thread(run, grpcurl("kubernetes.default.svc:443", method, request))
                assert code != 0 and "PermissionDenied" in out, (method, request, out)
        finally:
            await client.resource("Namespace").delete(namespace)
