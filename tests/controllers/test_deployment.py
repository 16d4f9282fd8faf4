"""The Deployment controller against a real API server, with hollow nodes running the pods."""
from controlplane.controllers import rollout
from agent.runtime.hollow import Program
from tests.controllers.support import active_pods, deployment, eventually, hollow_nodes, starting_in, \
    with_readiness_probe
from tests.support.census import PodCensus
from tests.support.objects import modify


async def rolled_out(api, name):
    d = await api.get(name)
    return rollout.rollout_message(d)[1] and d


async def test_a_deployment_converges(client, manager, nodes):
    api = client.resource("Deployment")
    await api.create(deployment("web", 5))
    d = await eventually(lambda: rolled_out(api, "web"))
    assert (d.status.replicas, d.status.available_replicas, d.status.updated_replicas) == (5, 5, 5)
    assert {(c.type, c.status) for c in d.status.conditions} == {("Available", "True"), ("Progressing", "True")}
    rss = (await client.resource("ReplicaSet").list(namespace="default")).items
    assert len(rss) == 1 and rss[0].metadata.name == f"web-{rollout.template_hash(d.spec.template)}"
    assert rss[0].metadata.annotations[rollout.REVISION] == "1" == d.metadata.annotations[rollout.REVISION]
    assert len(await active_pods(client, label_selector="app=web")) == 5


async def test_rolling_update_stays_within_surge_and_unavailability(client, manager):
    api = client.resource("Deployment")
    async with hollow_nodes(client, program=starting_in(0.3)):
        await api.create(deployment("web", 5, image="busybox:1", surge=1, unavailable=1))
        await eventually(lambda: rolled_out(api, "web"))
        async with PodCensus(client, "app=web") as census:
            def change(d):
                d.spec.template.spec.containers[0].image = "busybox:2"
            await modify(api, "web", change)
            d = await eventually(lambda: rolled_out(api, "web"), timeout=30)
        assert census.max_active <= 5 + 1
        assert census.min_ready >= 5 - 1
        assert census.templates_together  # a rolling update does overlap
    pods = await active_pods(client, label_selector="app=web")
    assert {p.spec.containers[0].image for p in pods} == {"busybox:2"} and len(pods) == 5
    assert d.metadata.annotations[rollout.REVISION] == "2"
    rss = (await client.resource("ReplicaSet").list(namespace="default")).items
    assert sorted((rs.spec.replicas, rs.metadata.annotations[rollout.REVISION]) for rs in rss) == [(0, "1"), (5, "2")]


async def test_rolling_back_reuses_the_old_replica_set_at_a_new_revision(client, manager, nodes):
    api, rs_api = client.resource("Deployment"), client.resource("ReplicaSet")
    await api.create(deployment("web", 2, image="busybox:1"))
    first = await eventually(lambda: rolled_out(api, "web"))
    def change(d):
        d.spec.template.spec.containers[0].image = "busybox:2"
    await modify(api, "web", change)
    await eventually(lambda: rolled_out(api, "web"))
    old_rs = next(rs for rs in (await rs_api.list(namespace="default")).items
                  if rollout.templates_equal(rs.spec.template, first.spec.template))
    def change(d):
        d.spec.template.CopyFrom(rollout.rollback_template(old_rs))      # what `cox rollout undo` does
    await modify(api, "web", change)
    d = await eventually(lambda: rolled_out(api, "web"))
    back = await rs_api.get(old_rs.metadata.name)
    assert back.spec.replicas == 2 and back.metadata.uid == old_rs.metadata.uid
    assert back.metadata.annotations[rollout.REVISION] == "3"
    assert back.metadata.annotations[rollout.REVISION_HISTORY] == "1"
    assert d.metadata.annotations[rollout.REVISION] == "3"
    assert len((await rs_api.list(namespace="default")).items) == 2


async def test_recreate_stops_every_old_pod_before_starting_new_ones(client, manager, nodes):
    api = client.resource("Deployment")
    await api.create(deployment("batch", 3, image="busybox:1", strategy={"type": "Recreate"}))
    await eventually(lambda: rolled_out(api, "batch"))
    async with PodCensus(client, "app=batch") as census:
        def change(d):
            d.spec.template.spec.containers[0].image = "busybox:2"
        await modify(api, "batch", change)
        await eventually(lambda: rolled_out(api, "batch"))
    assert not census.templates_together and census.max_active <= 3


async def test_a_paused_deployment_scales_but_does_not_roll_out(client, manager, nodes):
    api = client.resource("Deployment")
    await api.create(deployment("web", 2, image="busybox:1"))
    await eventually(lambda: rolled_out(api, "web"))
    def change(d):
        d.spec.paused = True
        d.spec.template.spec.containers[0].image = "busybox:2"
        d.spec.replicas = 3
    await modify(api, "web", change)

    async def paused_at_three():
        current = await api.get("web")
        progressing = rollout.condition(current.status, rollout.PROGRESSING)
        return current.status.available_replicas == 3 and progressing.reason == rollout.PAUSED and current
    await eventually(paused_at_three)
    assert len((await client.resource("ReplicaSet").list(namespace="default")).items) == 1
    def change(d):
        d.spec.paused = False
    await modify(api, "web", change)
    await eventually(lambda: rolled_out(api, "web"))
    assert {p.spec.containers[0].image for p in await active_pods(client, label_selector="app=web")} == {"busybox:2"}


async def test_a_stuck_rollout_exceeds_its_progress_deadline(client, manager):
    api = client.resource("Deployment")

    def program(config):   # the image "broken" never passes its readiness probe
        return Program(exec_exit_code=1 if config.image == "broken" else 0)
    async with hollow_nodes(client, ["node-a"], program=program):
        await api.create(with_readiness_probe(deployment("web", 2, image="busybox", progress_deadline_seconds=2)))
        await eventually(lambda: rolled_out(api, "web"))
        def change(d):
            d.spec.template.spec.containers[0].image = "broken"
        await modify(api, "web", change)

        async def timed_out():
            current = await api.get("web")
            progressing = rollout.condition(current.status, rollout.PROGRESSING)
            return progressing.reason == rollout.TIMED_OUT and current
        d = await eventually(timed_out, timeout=15)
    assert rollout.condition(d.status, rollout.PROGRESSING).status == "False"
    assert d.status.available_replicas >= 1        # the old pods still serve


async def test_history_is_trimmed_to_the_revision_history_limit(client, manager, nodes):
    api = client.resource("Deployment")
    await api.create(deployment("web", 1, image="v0", revision_history_limit=1))
    for version in range(1, 4):
        await eventually(lambda: rolled_out(api, "web"))
        def change(d):
            d.spec.template.spec.containers[0].image = f"v{version}"
        await modify(api, "web", change)

    async def trimmed():
        rss = (await client.resource("ReplicaSet").list(namespace="default")).items
        images = sorted(rs.spec.template.spec.containers[0].image for rs in rss)
        return images == ["v2", "v3"]
    await eventually(trimmed)
