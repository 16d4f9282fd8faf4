"""The controller manager: leader election, and restarts that lose and duplicate nothing."""
import asyncio

from controlplane.client.leaderelection import LeaderElector
from controlplane.controllers.manager import LEASE_NAME, ControllerManager, ControllerOptions
from tests.controllers.support import active_pods, deployment, eventually, hollow_nodes, running_manager, starting_in
from tests.controllers.test_deployment import PodCensus, rolled_out
from tests.support.objects import modify

FAST = dict(lease_duration=1.5, renew_deadline=1.0, retry_period=0.2)


async def test_a_restart_mid_rollout_finishes_it_without_duplicates(client):
    api = client.resource("Deployment")
    async with hollow_nodes(client, program=starting_in(0.4)):
        async with running_manager(client):
            await api.create(deployment("web", 6, image="busybox:1", surge=1, unavailable=0))
            await eventually(lambda: rolled_out(api, "web"), timeout=30)
        async with PodCensus(client, "web") as census:
            async with running_manager(client):
                def change(d):
                    d.spec.template.spec.containers[0].image = "busybox:2"
                await modify(api, "web", change)

                async def midway():
                    current = await api.get("web")
                    return 0 < current.status.updated_replicas < 6
                await eventually(midway, timeout=30)
            async with running_manager(client):       # a new process: fresh caches, no memory
                await eventually(lambda: rolled_out(api, "web"), timeout=30)
        assert census.max_active <= 7
    rss = (await client.resource("ReplicaSet").list(namespace="default")).items
    assert sorted(rs.spec.replicas for rs in rss) == [0, 6]
    pods = await active_pods(client, label_selector="app=web")
    assert len(pods) == 6 and {p.spec.containers[0].image for p in pods} == {"busybox:2"}


async def test_only_the_leader_runs_controllers_and_a_successor_takes_over(client):
    stops = [asyncio.Event(), asyncio.Event()]
    managers = [ControllerManager(client, ControllerOptions(identity=f"cm-{i}", **FAST)) for i in range(2)]
    tasks = [asyncio.create_task(m.run(s)) for m, s in zip(managers, stops)]
    try:
        await asyncio.wait([asyncio.create_task(m.leading.wait()) for m in managers],
                           return_when=asyncio.FIRST_COMPLETED, timeout=10)
        await asyncio.sleep(0.5)
        leaders = [m for m in managers if m.leading.is_set()]
        assert len(leaders) == 1
        first = managers.index(leaders[0])
        lease = await client.resource("Lease").get(LEASE_NAME, namespace="kube-system")
        assert lease.spec.holder_identity == f"cm-{first}"
        stops[first].set()                              # a clean stop releases the lease
        await asyncio.wait_for(tasks[first], 10)
        other = managers[1 - first]
        await asyncio.wait_for(other.leading.wait(), 5)
        lease = await client.resource("Lease").get(LEASE_NAME, namespace="kube-system")
        assert lease.spec.holder_identity == f"cm-{1 - first}" and lease.spec.lease_transitions == 1
        await client.resource("Deployment").create(deployment("web", 1))

        async def acted():
            return (await client.resource("ReplicaSet").list(namespace="default")).items
        await eventually(acted)
    finally:
        for s in stops:
            s.set()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_leader_that_cannot_renew_stops_leading(client):
    elector = LeaderElector(client, name="test-lease", identity="me", **FAST)
    leading = asyncio.Event()
    stopped = asyncio.Event()
    stop = asyncio.Event()

    async def lead():
        leading.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()
    task = asyncio.create_task(elector.run(lead, stop=stop))
    try:
        await asyncio.wait_for(leading.wait(), 5)
        leases = client.resource("Lease")
        def change(lease):
            lease.spec.holder_identity = "thief"           # someone else took it (as after a partition)
        await modify(leases, "test-lease", change, namespace="kube-system")
        await asyncio.wait_for(stopped.wait(), 5)
        assert not elector.is_leader
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_a_standby_waits_out_a_dead_leaders_lease(client):
    dead = LeaderElector(client, name="lease2", identity="dead", **FAST)
    assert await dead._try_acquire_or_renew()          # took the lease, then "crashed": never renews
    standby = LeaderElector(client, name="lease2", identity="standby", **FAST)
    took = asyncio.Event()

    async def lead():
        took.set()
        await asyncio.Event().wait()
    loop = asyncio.get_running_loop()
    start = loop.time()
    stop = asyncio.Event()
    task = asyncio.create_task(standby.run(lead, stop=stop))
    try:
        await asyncio.wait_for(took.wait(), 10)
        assert loop.time() - start >= FAST["lease_duration"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
