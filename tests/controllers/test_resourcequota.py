"""A ResourceQuota under a workload, with every controller and hollow nodes: a Deployment asking for more
pods than the quota allows gets as many as fit, its ReplicaSet says why (ReplicaFailure, FailedCreate with the
quota's words), and it gets the rest once the quota is raised."""
from controlplane.api.kinds import KINDS
from tests.controllers.support import active_pods, deployment, eventually


async def test_a_deployment_fills_the_quota_and_no_more(client, manager, nodes):
    quotas = client.resource("ResourceQuota")
    await quotas.create(KINDS["ResourceQuota"].new(metadata={"name": "q", "namespace": "default"},
                                                   spec={"hard": {"pods": "2"}}))

    async def counted(hard):
        q = await quotas.get("q", namespace="default")
        return q.status.hard.get("pods") == hard and q.status.used.get("pods") is not None
    await eventually(lambda: counted("2"), what="the quota counted")
    await client.resource("Deployment").create(deployment("web", 3))

    async def refused():
        rs = (await client.resource("ReplicaSet").list(namespace="default")).items
        failure = [c for r in rs for c in r.status.conditions if c.type == "ReplicaFailure" and c.status == "True"]
        return failure and failure[0]
    failure = await eventually(refused, what="the ReplicaSet's ReplicaFailure")
    assert failure.reason == "FailedCreate" and "exceeded quota: q, requested: pods=1" in failure.message
    assert len(await active_pods(client, label_selector="app=web")) == 2

    q = await quotas.get("q", namespace="default")
    q.spec.hard["pods"] = "3"
    await quotas.update(q)

    async def three():
        return len(await active_pods(client, label_selector="app=web")) == 3
    await eventually(three, timeout=60, what="the third pod once the quota allows it")
    assert (await quotas.get("q", namespace="default")).status.used["pods"] == "3"
