"""ResourceQuota and LimitRange at admission, against a real API server (SQLite) with the resource quota
controller keeping status.used: refusals with Kubernetes' codes and words, the last slot taken by exactly one
of many concurrent creates, LimitRange defaults, and room given back by deletes."""
import asyncio

import pytest

from controlplane.api import defaults, limitranges
from controlplane.api.kinds import KINDS
from controlplane.apiserver import quotas
from controlplane.apiserver.errors import ApiError
from controlplane.apiserver.registry import Registry
from controlplane.client import errors
from tests.controllers.support import eventually, running_manager
from tests.support.objects import configmap, kubectl_manifest, pod


def sized_pod(name, *, cpu=None, limit_cpu=None, namespace="default"):
    p = pod(name, namespace=namespace)
    if cpu:
        p.spec.containers[0].resources.requests["cpu"] = cpu
    if limit_cpu:
        p.spec.containers[0].resources.limits["cpu"] = limit_cpu
    return p


@pytest.fixture
async def quota_controller(client):
    async with running_manager(client, controllers=("resourcequota",), resource_quota_sync_period=1.0) as m:
        yield m


async def counted(client, name, **used):
    """Wait until the quota's status shows `used` (its spec's hard copied in), and return the quota."""
    async def check():
        q = await client.resource("ResourceQuota").get(name, namespace="default")
        return q if dict(q.status.hard) == dict(q.spec.hard) and all(
            q.status.used.get(k) == v for k, v in used.items()) else None
    return await eventually(check, what=f"quota {name} used {used}")


async def test_kubectl_made_quota_refuses_what_goes_past_it_and_deletes_free_room(client, quota_controller):
    quotas, pods = client.resource("ResourceQuota"), client.resource("Pod")
    await quotas.create(kubectl_manifest("quota", "q", "--hard=pods=2,configmaps=1"))
    await counted(client, "q", pods="0", configmaps="0")
    await pods.create(pod("a"))
    await pods.create(pod("b"))
    with pytest.raises(errors.Forbidden) as refused:
        await pods.create(pod("c"))
    assert str(refused.value).endswith(
        'pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2')
    await client.resource("ConfigMap").create(configmap("one"))
    with pytest.raises(errors.Forbidden, match="exceeded quota: q, requested: configmaps=1"):
        await client.resource("ConfigMap").create(configmap("two"))
    assert [p.metadata.name for p in (await pods.list(namespace="default")).items] == ["a", "b"]

    await pods.delete("a", namespace="default")
    await counted(client, "q", pods="1")
    await pods.create(pod("c"))
    assert (await counted(client, "q", pods="2")).status.used["configmaps"] == "1"


async def test_only_one_of_many_concurrent_creates_takes_the_last_slot(client, quota_controller):
    quotas, pods = client.resource("ResourceQuota"), client.resource("Pod")
    await quotas.create(KINDS["ResourceQuota"].new(metadata={"name": "q"}, spec={"hard": {"pods": "3"}}))
    await counted(client, "q", pods="0")
    await pods.create(pod("first"))
    await pods.create(pod("second"))
    results = await asyncio.gather(*(pods.create(pod(f"racer-{i}")) for i in range(8)), return_exceptions=True)
    created = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(created) == 1, results
    assert all(isinstance(r, errors.Forbidden) and "exceeded quota: q" in str(r) for r in refused), refused
    assert len((await pods.list(namespace="default")).items) == 3
    assert (await quotas.get("q", namespace="default")).status.used["pods"] == "3"


async def test_two_api_servers_charging_one_quota_never_both_take_the_last_slot(apiserver, client, quota_controller):
    """Each plugin here stands for another API server over the same store (its own turns, the same quota):
    only the write conditional on the quota's resourceVersion keeps them apart."""
    await client.resource("ResourceQuota").create(
        KINDS["ResourceQuota"].new(metadata={"name": "q"}, spec={"hard": {"pods": "1"}}))
    await counted(client, "q", pods="0")
    servers = [quotas.ResourceQuotaAdmission(Registry(apiserver.store, KINDS["ResourceQuota"]),
                                             apiserver.caches["ResourceQuota"]) for _ in range(4)]
    candidates = [pod(f"p{i}") for i in range(8)]
    for candidate in candidates:
        defaults.apply_defaults(candidate)
    results = await asyncio.gather(*(servers[i % 4].admit_create(p) for i, p in enumerate(candidates)),
                                   return_exceptions=True)
    assert [r for r in results if r is not None and not isinstance(r, ApiError)] == []
    assert sum(r is None for r in results) == 1, results
    assert all("exceeded quota: q" in r.message for r in results if r is not None)
    assert (await client.resource("ResourceQuota").get("q", namespace="default")).status.used["pods"] == "1"


async def test_compute_quota_needs_requests_and_counts_them(client, quota_controller):
    quotas, pods = client.resource("ResourceQuota"), client.resource("Pod")
    await quotas.create(KINDS["ResourceQuota"].new(metadata={"name": "compute"},
                                                   spec={"hard": {"requests.cpu": "1", "limits.cpu": "2"}}))
    await counted(client, "compute", **{"requests.cpu": "0"})
    with pytest.raises(errors.Forbidden, match=r'pods "bare" is forbidden: failed quota: compute: must specify '
                                               r"limits.cpu for: main; requests.cpu for: main"):
        await pods.create(pod("bare"))
    await pods.create(sized_pod("half", cpu="500m", limit_cpu="1"))
    with pytest.raises(errors.Forbidden, match="requested: requests.cpu=600m, used: requests.cpu=500m, "
                                               "limited: requests.cpu=1"):
        await pods.create(sized_pod("big", cpu="600m", limit_cpu="600m"))
    # a dry run checks but charges nothing
    await pods.create(sized_pod("small", cpu="500m", limit_cpu="500m"), dry_run=True)
    assert (await quotas.get("compute", namespace="default")).status.used["requests.cpu"] == "500m"
    await pods.create(sized_pod("small", cpu="500m", limit_cpu="500m"))
    assert dict((await quotas.get("compute", namespace="default")).status.used) == \
        {"requests.cpu": "1", "limits.cpu": "1500m"}
    # a pod that finishes takes no more room
    half = await pods.get("half", namespace="default")
    half.status.phase = "Succeeded"
    await pods.update_status(half)
    await counted(client, "compute", **{"requests.cpu": "500m", "limits.cpu": "500m"})


async def test_an_update_that_takes_more_is_charged(client, quota_controller):
    quotas, services = client.resource("ResourceQuota"), client.resource("Service")
    await quotas.create(KINDS["ResourceQuota"].new(metadata={"name": "ports"},
                                                   spec={"hard": {"services.nodeports": "1", "services": "5"}}))
    await counted(client, "ports", **{"services.nodeports": "0"})
    web = KINDS["Service"].new(metadata={"name": "web"}, spec={
        "selector": {"app": "web"}, "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 81}]})
    created = await services.create(web)
    there = len((await services.list(namespace="default")).items)   # with the `kubernetes` Service
    assert (await quotas.get("ports", namespace="default")).status.used["services"] == str(there)
    created.spec.type = "NodePort"
    with pytest.raises(errors.Forbidden, match="requested: services.nodeports=2, used: services.nodeports=0"):
        await services.update(created)
    assert (await services.get("web", namespace="default")).spec.type == "ClusterIP"
    del created.spec.ports[1]
    assert (await services.update(created)).spec.ports[0].node_port
    assert (await quotas.get("ports", namespace="default")).status.used["services.nodeports"] == "1"


async def test_quota_refuses_until_its_status_is_counted(client):
    """No controller here: a quota whose status was never counted refuses, as Kubernetes does."""
    await client.resource("ResourceQuota").create(
        KINDS["ResourceQuota"].new(metadata={"name": "q"}, spec={"hard": {"pods": "5"}}))
    await client.resource("ResourceQuota").list()   # the watch cache has it once this returns
    with pytest.raises(errors.Forbidden, match="status unknown for quota: q, resource: pods"):
        await client.resource("Pod").create(pod("a"))


async def test_object_counts_of_other_kinds_and_invalid_quotas(client, quota_controller):
    quotas, deployments = client.resource("ResourceQuota"), client.resource("Deployment")
    await quotas.create(KINDS["ResourceQuota"].new(metadata={"name": "apps"},
                                                   spec={"hard": {"count/deployments.apps": "1"}}))
    await counted(client, "apps", **{"count/deployments.apps": "0"})

    def deployment(name):
        return KINDS["Deployment"].new(metadata={"name": name}, spec={
            "selector": {"match_labels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "main", "image": "busybox"}]}}})
    await deployments.create(deployment("one"))
    with pytest.raises(errors.Forbidden, match="limited: count/deployments.apps=1"):
        await deployments.create(deployment("two"))
    await deployments.delete("one", namespace="default")
    await counted(client, "apps", **{"count/deployments.apps": "0"})   # the delete gave the room back
    await deployments.create(deployment("two"))
    with pytest.raises(errors.Invalid, match=r'spec.hard\[gadgets\]: "gadgets": not a resource a quota can limit'):
        await quotas.create(KINDS["ResourceQuota"].new(metadata={"name": "bad"}, spec={"hard": {"gadgets": "1"}}))


async def test_limit_range_defaults_and_bounds(client):
    ranges, pods = client.resource("LimitRange"), client.resource("Pod")
    await ranges.create(KINDS["LimitRange"].new(metadata={"name": "lr"}, spec={"limits": [
        {"type": "Container", "default": {"cpu": "500m", "memory": "128Mi"}, "default_request": {"cpu": "100m"},
         "max": {"cpu": "1"}},
        {"type": "PersistentVolumeClaim", "max": {"storage": "1Gi"}}]}))
    await ranges.list()
    created = await pods.create(pod("defaulted"))
    resources = created.spec.containers[0].resources
    assert dict(resources.requests) == {"cpu": "100m", "memory": "128Mi"}
    assert dict(resources.limits) == {"cpu": "500m", "memory": "128Mi"}
    assert created.status.qos_class == "Burstable"
    assert created.metadata.annotations[limitranges.ANNOTATION].startswith(
        "LimitRanger plugin set: cpu request for container main")
    with pytest.raises(errors.Forbidden, match=r'pods "greedy" is forbidden: maximum cpu usage per Container is 1, '
                                               r"but limit is 2"):
        await pods.create(sized_pod("greedy", limit_cpu="2"))
    claim = KINDS["PersistentVolumeClaim"].new(metadata={"name": "big"}, spec={
        "access_modes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}})
    with pytest.raises(errors.Forbidden, match="maximum storage usage per PersistentVolumeClaim is 1Gi, "
                                               "but request is 5Gi"):
        await client.resource("PersistentVolumeClaim").create(claim)
