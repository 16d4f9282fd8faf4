"""The ReplicaSet controller against a real API server."""
from controlplane.api.kinds import KINDS
from controlplane.controllers import pods as podutil
from tests.controllers.support import active_pods, eventually, template
from tests.support.objects import modify, pod as new_pod


def replica_set(name, replicas, labels=None):
    labels = labels or {"app": name}
    return KINDS["ReplicaSet"].new(metadata={"name": name, "namespace": "default"},
                                   spec={"replicas": replicas, "selector": {"match_labels": labels},
                                         "template": template(labels)})


async def test_keeps_the_count_heals_and_reports_status(client, manager, nodes):
    api = client.resource("ReplicaSet")
    rs = await api.create(replica_set("web", 3))

    async def ready():
        current = await api.get("web")
        return current.status.ready_replicas == 3 and current.status.available_replicas == 3 and current
    current = await eventually(ready)
    assert current.status.observed_generation == current.metadata.generation
    pods = await active_pods(client, label_selector="app=web")
    assert len(pods) == 3
    for p in pods:
        ref = podutil.controller_ref(p)
        assert (ref.kind, ref.name, ref.uid, ref.block_owner_deletion) == ("ReplicaSet", "web", rs.metadata.uid, True)
        assert p.metadata.name.startswith("web-")
    await client.resource("Pod").delete(pods[0].metadata.name, grace_period_seconds=0)

    async def healed():
        now = await active_pods(client, label_selector="app=web")
        return len(now) == 3 and pods[0].metadata.name not in {p.metadata.name for p in now}
    await eventually(healed)
    events = (await client.resource("Event").list(namespace="default")).items
    assert any(e.reason == "SuccessfulCreate" and e.involved_object.name == "web" for e in events)


async def test_scale_down_removes_unscheduled_and_unready_pods_first(client, manager):
    api, pods_api = client.resource("ReplicaSet"), client.resource("Pod")
    await api.create(replica_set("db", 3))
    pods = await eventually(lambda: _exactly(client, "app=db", 3))
    keep, unready, unscheduled = sorted(p.metadata.name for p in pods)
    for name in (keep, unready):
        await pods_api.bind(name, "node-x")
    current = await pods_api.get(keep)
    current.status.phase = "Running"
    current.status.conditions.add(type="Ready", status="True").last_transition_time.GetCurrentTime()
    await pods_api.update_status(current)
    await eventually(lambda: _ready_count(api, "db", 1))
    def change(rs):
        rs.spec.replicas = 1
    await modify(api, "db", change)
    # the bound pods are deleted gracefully (no kubelet here), so look at active pods
    survivors = await eventually(lambda: _exactly(client, "app=db", 1))
    assert survivors[0].metadata.name == keep


async def test_adopts_matching_orphans_and_releases_pods_that_stop_matching(client, manager):
    pods_api = client.resource("Pod")
    orphan = await pods_api.create(new_pod("orphan", labels={"app": "cache"}))
    rs = await client.resource("ReplicaSet").create(replica_set("cache", 2))
    pods = await eventually(lambda: _exactly(client, "app=cache", 2))
    assert "orphan" in {p.metadata.name for p in pods}
    adopted = await pods_api.get("orphan")
    assert podutil.controller_ref(adopted).uid == rs.metadata.uid and adopted.metadata.uid == orphan.metadata.uid
    adopted.metadata.labels["app"] = "elsewhere"
    await pods_api.update(adopted)

    async def released():
        freed = await pods_api.get("orphan")
        return not freed.metadata.owner_references and freed
    await eventually(released)
    await eventually(lambda: _exactly(client, "app=cache", 2))


async def _exactly(client, selector, n):
    pods = await active_pods(client, label_selector=selector)
    return pods if len(pods) == n else None


async def _ready_count(api, name, n):
    return (await api.get(name)).status.ready_replicas == n
