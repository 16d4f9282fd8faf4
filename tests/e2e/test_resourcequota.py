"""ResourceQuota and LimitRange on a cox local cluster: kubectl's own quota, applied with `cox apply`, holds a
3-replica Deployment to 2 pods on real agents; the namespace's LimitRange gives their containers a CPU limit
the node's dockerd enforces; a deleted pod's room goes to its replacement."""
import asyncio
import json
import subprocess
import time

from agent.runtime import labels
from controlplane.api.kinds import KINDS
from tests.e2e.workloads import deployment
from tests.support.control_plane import cox_command
from tests.support.polling import eventually

LIMITS = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults"},
          "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "100m"}}]}}


def _cox(cluster, *args, stdin: str):
    run = subprocess.run(cox_command(*args, "--config", str(cluster.info.config)), input=stdin, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def _nano_cpus(cluster, pod) -> int:
    """The CPU limit the node's dockerd gave the pod's main container."""
    with cluster.docker(pod.spec.node_name) as api:
        found = api.containers(filters={"label": labels.managed_filter(**{labels.POD_UID: pod.metadata.uid,
                                                                          labels.CONTAINER_NAME: "main"})})
        return api.inspect_container(found[0]["Id"])["HostConfig"]["NanoCpus"]


async def test_a_quota_and_limit_range_hold_a_deployment_on_real_nodes(cluster):
    namespace = f"quota-{int(time.time())}"
    quota = subprocess.run(["kubectl", "create", "quota", "q", "--hard=pods=2,limits.cpu=2", "--dry-run=client",
                            "-o", "yaml"], check=True, capture_output=True, text=True).stdout
    async with cluster.client() as client:
        await client.resource("Namespace").create(KINDS["Namespace"].new(metadata={"name": namespace}))
        try:
            assert await asyncio.to_thread(_cox, cluster, "apply", "-n", namespace, "-f", "-", stdin=quota) == \
                "resourcequota/q created\n"
            await asyncio.to_thread(_cox, cluster, "apply", "-n", namespace, "-f", "-", stdin=json.dumps(LIMITS))
            quotas, pods = client.resource("ResourceQuota"), client.resource("Pod")

            async def counted():
                return (await quotas.get("q", namespace=namespace)).status.used.get("pods") == "0"
            await eventually(counted, timeout=30, what="the quota counted")
            await client.resource("Deployment").create(deployment("web", replicas=3, namespace=namespace))

            async def running():
                listed = (await pods.list(namespace=namespace)).items
                return [p for p in listed if p.status.phase == "Running" and not p.metadata.HasField(
                    "deletion_timestamp")]
            first = await eventually(lambda: _exactly(running, 2), timeout=90, interval=1, what="2 running pods")
            rs = (await client.resource("ReplicaSet").list(namespace=namespace)).items[0]
            failure = next(c for c in rs.status.conditions if c.type == "ReplicaFailure")
            assert "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2" in failure.message
            assert dict((await quotas.get("q", namespace=namespace)).status.used) == {"pods": "2", "limits.cpu": "1"}
            assert [await asyncio.to_thread(_nano_cpus, cluster, p) for p in first] == [500_000_000] * 2

            await pods.delete(first[0].metadata.name, namespace=namespace)
            after = await eventually(lambda: _replaced(running, first[0]), timeout=90, interval=1,
                                     what="a replacement in the freed room")
            assert len(after) == 2 and len((await pods.list(namespace=namespace)).items) <= 3
        finally:
            await client.resource("Namespace").delete(namespace)


async def _exactly(running, count):
    found = await running()
    return found if len(found) == count else None


async def _replaced(running, gone):
    found = await running()
    return found if len(found) == 2 and gone.metadata.name not in {p.metadata.name for p in found} else None
