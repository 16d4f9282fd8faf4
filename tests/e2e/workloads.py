"""Pods, Deployments and Services for the end-to-end tests, and commands run inside pods.

Commands run in a pod's container through its node's dockerd (found by the
kubelet's labels), the way `kubectl exec` ends up on the node. Every HTTP
request is busybox wget under `timeout`: Debian's busybox 1.35 segfaults on
`wget -T`.
"""
from __future__ import annotations

from google.protobuf.message import Message

from controlplane.api.kinds import KINDS
from controlplane.client import Client
from controlplane.client.errors import NotFound

from agent.runtime import labels
from localcluster.images import BUSYBOX_IMAGE
from tests.support.cluster import Cluster
from tests.support.polling import eventually

HTTP_PORT = 8080
# Serves its pod's name at / and the client's address at /cgi-bin/peer.
HTTPD = ("mkdir -p /www/cgi-bin && hostname > /www/index.html && "
         "printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' > /www/cgi-bin/peer && "
         f"chmod +x /www/cgi-bin/peer && exec httpd -f -p {HTTP_PORT} -h /www")
SLEEP = "exec sleep 36000"


def container(command: str, *, ports: bool) -> dict:
    spec = {"name": "main", "image": BUSYBOX_IMAGE, "command": ["sh", "-c", command]}
    if ports:
        spec["ports"] = [{"name": "http", "container_port": HTTP_PORT}]
        # Ready once httpd listens: an endpoint that refuses connections would fail requests.
        spec["readiness_probe"] = {"tcp_socket": {"port": {"string_value": "http"}}, "period_seconds": 1}
    return spec


def pod(name: str, *, node: str, command: str = SLEEP, namespace: str = "default", pod_labels=None) -> Message:
    """A pod bound to `node` (no scheduler involved, so the test knows where it runs)."""
    return KINDS["Pod"].new(metadata={"name": name, "namespace": namespace, "labels": pod_labels or {}},
                            spec={"node_name": node, "termination_grace_period_seconds": 1,
                                  "containers": [container(command, ports=command == HTTPD)]})


def deployment(name: str, *, replicas: int, namespace: str = "default") -> Message:
    return KINDS["Deployment"].new(
        metadata={"name": name, "namespace": namespace},
        spec={"replicas": replicas, "selector": {"match_labels": {"app": name}},
              "template": {"metadata": {"labels": {"app": name}},
                           "spec": {"termination_grace_period_seconds": 1,
                                    "containers": [container(HTTPD, ports=True)]}}})


def service(name: str, *, namespace: str = "default", kind: str = "ClusterIP") -> Message:
    return KINDS["Service"].new(
        metadata={"name": name, "namespace": namespace},
        spec={"type": kind, "selector": {"app": name},
              "ports": [{"name": "http", "port": 80, "target_port": {"string_value": "http"}}]})


async def running_pod(client: Client, name: str, namespace: str = "default", timeout: float = 60.0) -> Message:
    async def check():
        found = await client.resource("Pod").get(name, namespace=namespace)
        return found if found.status.phase == "Running" and found.status.pod_ip else None
    return await eventually(check, timeout=timeout, what=f"pod {namespace}/{name} running")


async def ready_endpoints(client: Client, name: str, namespace: str = "default") -> list[str]:
    """The ready addresses of a Service (none while its Endpoints object is not made yet)."""
    try:
        eps = await client.resource("Endpoints").get(name, namespace=namespace)
    except NotFound:
        return []
    return sorted(a.ip for s in eps.subsets for a in s.addresses)


def exec_in_pod(cluster: Cluster, pod: Message, command: str, *, timeout: float = 120) -> tuple[int, str]:
    """Run `sh -c command` in the pod's main container on its node; (exit code, stdout+stderr)."""
    with cluster.docker(pod.spec.node_name, timeout=timeout) as api:
        found = api.containers(filters={"label": labels.managed_filter(**{labels.POD_UID: pod.metadata.uid,
                                                                          labels.CONTAINER_NAME: "main"})})
        assert found, f"no running container for pod {pod.metadata.name} on {pod.spec.node_name}"
        run = api.exec_create(found[0]["Id"], ["sh", "-c", command])
        output = api.exec_start(run["Id"]).decode(errors="replace")
        return api.exec_inspect(run["Id"])["ExitCode"], output


def requests_loop(url: str, count: int, *, seconds: int = 2) -> str:
    """A shell loop doing `count` GETs, printing one line per request: the body, or FAIL."""
    return (f"for i in $(seq {count}); do timeout {seconds} wget -q -O- {url} 2>/dev/null || echo FAIL; done")
