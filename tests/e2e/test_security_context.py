"""securityContext on a cox local cluster: a pod's container runs as the user its securityContext names, with
a read-only root filesystem, as the node's dockerd started it."""
import asyncio

from controlplane.api.kinds import KINDS
from tests.e2e.workloads import SLEEP, container, exec_in_pod, running_pod


async def test_a_container_runs_as_its_user_with_a_read_only_root(cluster):
    node = cluster.nodes[0]
    spec = container(SLEEP, ports=False)
    spec["security_context"] = {"read_only_root_filesystem": True, "allow_privilege_escalation": False}
    pod = KINDS["Pod"].new(metadata={"name": "locked", "namespace": "default"},
                           spec={"node_name": node, "termination_grace_period_seconds": 1, "containers": [spec],
                                 "security_context": {"run_as_user": 1000, "run_as_group": 3000,
                                                      "run_as_non_root": True}})
    async with cluster.client() as client:
        await client.resource("Pod").create(pod)
        try:
            found = await running_pod(client, "locked")
            code, out = await asyncio.to_thread(exec_in_pod, cluster, found,
                                                "id -u; id -g; touch /x 2>&1 || echo read-only")
            assert code == 0
            lines = out.split()
            assert lines[:2] == ["1000", "3000"] and lines[-1] == "read-only", out
        finally:
            await client.resource("Pod").delete("locked", namespace="default")
