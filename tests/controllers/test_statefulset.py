"""The StatefulSet and volume controllers against a real API server: hollow nodes run the pods, the
real scheduler places them (VolumeBinding picks the node a claim's volume is made on), the volume
controller provisions local-path volumes and binds the claims."""
from controlplane.api.kinds import KINDS
from controlplane.controllers import statefulplan
from tests.controllers.support import active_pods, eventually, template
from tests.support.objects import modify


def stateful_set(replicas, *, policy="Parallel", image="busybox", partition=0):
    tpl = template({"app": "db"}, image)
    tpl["spec"]["containers"][0]["volume_mounts"] = [{"name": "data", "mount_path": "/data"}]
    return KINDS["StatefulSet"].new(
        metadata={"name": "db", "namespace": "default"},
        spec={"replicas": replicas, "selector": {"match_labels": {"app": "db"}}, "service_name": "db",
              "template": tpl, "pod_management_policy": policy,
              "update_strategy": {"rolling_update": {"partition": partition}},
              "volume_claim_templates": [{"metadata": {"name": "data"}, "spec": {
                  "access_modes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]})


async def images(client) -> dict[str, str]:
    return {p.metadata.name: p.spec.containers[0].image for p in await active_pods(client, label_selector="app=db")
            if p.status.phase == "Running"}


async def test_parallel_set_with_claims_partitioned_update_and_scale_down(client, manager, nodes):
    api, claims = client.resource("StatefulSet"), client.resource("PersistentVolumeClaim")
    await api.create(stateful_set(3))

    async def all_ready():
        sts = await api.get("db", namespace="default")
        return sts.status.ready_replicas == 3 and sts
    sts = await eventually(all_ready, timeout=30, what="three pods ready")
    bound = {c.metadata.name: c for c in (await claims.list(namespace="default")).items if c.status.phase == "Bound"}
    assert sorted(bound) == ["data-db-0", "data-db-1", "data-db-2"]
    volumes = {v.metadata.name: v for v in (await client.resource("PersistentVolume").list()).items}
    for i in range(3):
        pod = await client.resource("Pod").get(f"db-{i}", namespace="default")
        volume = volumes[bound[f"data-db-{i}"].spec.volume_name]
        assert volume.spec.node_affinity.required.node_selector_terms[0].match_expressions[0].values == [
            pod.spec.node_name]

    def change(sts):
        sts.spec.template.spec.containers[0].image = "busybox:2"
        sts.spec.update_strategy.rolling_update.partition = 1
    await modify(api, "db", change, namespace="default")

    async def partitioned():
        found = await images(client)
        return found == {"db-0": "busybox", "db-1": "busybox:2", "db-2": "busybox:2"} and found
    await eventually(partitioned, timeout=30, what="db-2 and db-1 updated, db-0 below the partition kept")
    sts = await eventually(lambda: _rolled(api), timeout=10, what="the partitioned rollout reported done")
    assert sts.status.updated_replicas == 2
    revisions = (await client.resource("ControllerRevision").list(namespace="default")).items
    assert sorted(r.revision for r in revisions) == [1, 2]
    assert {r.metadata.name for r in revisions} == {sts.status.current_revision, sts.status.update_revision}

    # db-0, below the partition, deleted: made again at the current (older) revision
    old = await client.resource("Pod").get("db-0", namespace="default")
    await client.resource("Pod").delete("db-0", namespace="default", grace_period_seconds=0)

    async def remade():
        pod = next((p for p in await active_pods(client, label_selector="app=db")
                    if p.metadata.name == "db-0" and p.status.phase == "Running"), None)
        return pod is not None and pod.metadata.uid != old.metadata.uid and pod
    remade_pod = await eventually(remade, timeout=30, what="db-0 made again from the old template")
    assert remade_pod.metadata.labels[statefulplan.REVISION_HASH] == sts.status.current_revision
    assert remade_pod.spec.containers[0].image == "busybox"

    def change(sts):
        sts.spec.replicas = 1
    await modify(api, "db", change, namespace="default")

    async def scaled_down():
        return sorted(await images(client)) == ["db-0"]
    await eventually(scaled_down, timeout=30, what="db-2 and db-1 removed")
    assert sorted(c.metadata.name for c in (await claims.list(namespace="default")).items) == [
        "data-db-0", "data-db-1", "data-db-2"]   # claims outlive their pods (whenScaled: Retain)


async def _rolled(api):
    sts = await api.get("db", namespace="default")
    return statefulplan.rollout_message(sts)[1] and sts
