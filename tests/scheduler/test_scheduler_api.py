"""The scheduler against a real API server and SQLite store: placement, events, retries, bursts."""
import asyncio
import contextlib
import dataclasses
from collections import Counter

import pytest

from controlplane.api import quantity
from controlplane.api.kinds import KINDS
from controlplane.client import errors
from controlplane.scheduler import Scheduler
from controlplane.scheduler.config import LeaderElection, Profile, SchedulerConfig
from controlplane.scheduler.framework import BindPlugin
from controlplane.scheduler.plugins import registry
from tests.scheduler.builders import node, pod
from tests.support.hollow import HollowNodes, NodeShape
from tests.support.polling import eventually

FAST = SchedulerConfig(leader_election=LeaderElection(leader_elect=False), pod_initial_backoff_seconds=0.1,
                       pod_max_backoff_seconds=0.5)


@contextlib.asynccontextmanager
async def running(client, config=FAST, **kwargs):
    scheduler = Scheduler(client, config, **kwargs)
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    try:
        if not config.leader_election.leader_elect:
            await asyncio.wait_for(scheduler.synced.wait(), 10)
        yield scheduler
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)   # binds in flight finish first; a loaded machine is slow


async def bound_to(client, name, namespace="default"):
    async def check():
        return (await client.resource("Pod").get(name, namespace=namespace)).spec.node_name
    return await eventually(check)


async def events_for(client, name, reason):
    listing = await client.resource("Event").list(
        namespace="default", field_selector=f"involvedObject.name={name},reason={reason}")
    return [e.message for e in listing.items]


async def failed_scheduling(client, name):
    async def check():
        return (await events_for(client, name, "FailedScheduling"))
    return (await eventually(check))[-1]


async def test_a_pod_is_bound_with_a_scheduled_event(client):
    await client.resource("Node").create(node("n1"))
    async with running(client):
        await client.resource("Pod").create(pod("web", cpu="100m"))
        assert await bound_to(client, "web") == "n1"
        messages = await eventually(lambda: events_for(client, "web", "Scheduled"))
        assert messages == ["Successfully assigned default/web to n1"]
        scheduled = (await client.resource("Pod").get("web")).status.conditions
        assert [(c.type, c.status) for c in scheduled] == [("PodScheduled", "True")]


async def test_pending_until_a_node_fits_then_scheduled(client):
    nodes = client.resource("Node")
    await nodes.create(node("small", cpu="1"))
    await nodes.create(node("tainted", cpu="8", taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]))
    async with running(client):
        await client.resource("Pod").create(pod("big", cpu="2"))
        message = await failed_scheduling(client, "big")
        assert message == ("0/2 nodes are available: 1 Insufficient cpu, "
                           "1 node(s) had untolerated taint {dedicated: db}. "
                           "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
                           "1 Preemption is not helpful for scheduling.")
        condition = (await client.resource("Pod").get("big")).status.conditions[0]
        assert (condition.type, condition.status, condition.reason) == ("PodScheduled", "False", "Unschedulable")
        await nodes.create(node("roomy", cpu="4"))
        assert await bound_to(client, "big") == "roomy"


async def test_a_deleted_pod_makes_room(client):
    await client.resource("Node").create(node("only", cpu="1"))
    pods = client.resource("Pod")
    async with running(client):
        await pods.create(pod("first", cpu="800m", termination_grace_period_seconds=0))
        assert await bound_to(client, "first") == "only"
        await pods.create(pod("second", cpu="800m"))
        assert "1 Insufficient cpu" in await failed_scheduling(client, "second")
        await pods.delete("first")
        assert await bound_to(client, "second") == "only"


async def test_no_node_is_overcommitted_by_a_burst(client):
    """500 pods of 500m onto 50 nodes of 4 cpu: exactly 400 fit, 8 per node, the rest wait."""
    nodes, pods = client.resource("Node"), client.resource("Pod")
    await asyncio.gather(*(nodes.create(node(f"n{i}", cpu="4")) for i in range(50)))
    async with running(client) as scheduler:
        for batch in range(10):
            await asyncio.gather(*(pods.create(pod(f"p{batch}-{i}", cpu="500m")) for i in range(50)))

        async def settled():
            listing = await pods.list(namespace="default")
            placed = [p for p in listing.items if p.spec.node_name]
            return listing if len(placed) == 400 and scheduler.metrics.results["unschedulable"] >= 100 else None
        listing = await eventually(settled, timeout=180, interval=0.5)  # a bound, not a target: 2 busy cores are slow
    per_node = Counter()
    for p in listing.items:
        if p.spec.node_name:
            per_node[p.spec.node_name] += quantity.millicores(p.spec.containers[0].resources.requests["cpu"])
    assert len(per_node) == 50 and max(per_node.values()) <= 4000


async def test_anti_affinity_spreads_replicas_one_per_node(client):
    await asyncio.gather(*(client.resource("Node").create(node(f"n{i}")) for i in range(4)))
    anti = {"pod_anti_affinity": {"required_during_scheduling_ignored_during_execution": [
        {"label_selector": {"match_labels": {"app": "web"}}, "topology_key": "kubernetes.io/hostname"}]}}
    async with running(client):
        for i in range(5):
            await client.resource("Pod").create(pod(f"web-{i}", labels={"app": "web"}, affinity=anti))
        placed = [await bound_to(client, f"web-{i}") for i in range(4)]
        assert sorted(placed) == ["n0", "n1", "n2", "n3"]
        assert await failed_scheduling(client, "web-4") == (
            "0/4 nodes are available: 4 node(s) didn't match pod anti-affinity rules. "
            "preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.")


async def test_a_taint_repels_pods_without_a_toleration(client):
    nodes = client.resource("Node")
    await nodes.create(node("gpu", taints=[{"key": "gpu", "value": "true", "effect": "NoSchedule"}]))
    await nodes.create(node("plain"))
    async with running(client):
        for i in range(6):
            await client.resource("Pod").create(pod(f"p{i}"))
        await client.resource("Pod").create(pod("trainer", node_selector={"kubernetes.io/hostname": "gpu"},
                                                tolerations=[{"key": "gpu", "operator": "Exists"}]))
        assert {await bound_to(client, f"p{i}") for i in range(6)} == {"plain"}
        assert await bound_to(client, "trainer") == "gpu"


async def test_cordon_then_uncordon(client):
    nodes = client.resource("Node")
    await nodes.create(node("n1", unschedulable=True))
    async with running(client):
        await client.resource("Pod").create(pod("p"))
        assert (await failed_scheduling(client, "p")).startswith(
            "0/1 nodes are available: 1 node(s) were unschedulable.")
        current = await nodes.get("n1")
        current.spec.unschedulable = False
        await nodes.update(current)
        assert await bound_to(client, "p") == "n1"


async def test_preemption_evicts_lower_priority_pods(client):
    """The victim is deleted gracefully; a hollow node finishes it off as a kubelet would."""
    classes = client.resource("PriorityClass")
    await classes.create(KINDS["PriorityClass"].new(metadata={"name": "high"}, value=1000))
    async with HollowNodes(client, 1, shape=NodeShape(cpu="2")), running(client):
        pods = client.resource("Pod")
        await pods.create(pod("low", cpu="1500m"))
        assert await bound_to(client, "low") == "hollow-0"
        await pods.create(pod("urgent", cpu="1500m", priority_class_name="high"))
        preempted = await eventually(lambda: events_for(client, "low", "Preempted"))
        assert preempted == ["Preempted by pod default/urgent on node hollow-0"]
        assert await bound_to(client, "urgent") == "hollow-0"
        with pytest.raises(errors.NotFound):
            await pods.get("low")


async def test_pods_for_another_scheduler_are_left_alone(client):
    await client.resource("Node").create(node("n1"))
    async with running(client):
        await client.resource("Pod").create(pod("mine"))
        await client.resource("Pod").create(pod("theirs", scheduler_name="other-scheduler"))
        assert await bound_to(client, "mine") == "n1"
        await asyncio.sleep(0.3)
        assert not (await client.resource("Pod").get("theirs")).spec.node_name


async def test_leader_election_lets_one_scheduler_work_and_hands_over(client):
    election = LeaderElection(lease_duration=2.0, renew_deadline=1.5, retry_period=0.2)
    config = SchedulerConfig(leader_election=election, pod_initial_backoff_seconds=0.1)
    await client.resource("Node").create(node("n1"))
    schedulers = {name: Scheduler(client, config, identity=name) for name in ("first", "second")}
    stops = {name: asyncio.Event() for name in schedulers}
    tasks = {name: asyncio.create_task(s.run(stops[name])) for name, s in schedulers.items()}
    try:
        leader = await eventually(lambda: _holder(client))
        standby = "second" if leader == "first" else "first"
        await client.resource("Pod").create(pod("a"))
        await bound_to(client, "a")
        assert schedulers[leader].metrics.results["scheduled"] == 1
        assert not schedulers[standby].metrics.results and not schedulers[standby].synced.is_set()
        stops[leader].set()
        await asyncio.wait_for(tasks[leader], 10)
        # The leader released the lease on the way out: the standby need not wait for it to expire.
        assert await eventually(lambda: _holder(client), timeout=2) == standby
        await client.resource("Pod").create(pod("b"))
        await bound_to(client, "b")
        assert schedulers[standby].metrics.results["scheduled"] == 1
    finally:
        for name in schedulers:
            stops[name].set()
        await asyncio.gather(*tasks.values())


async def _holder(client) -> str:
    try:
        return (await client.resource("Lease").get("cox-scheduler", namespace="kube-system")).spec.holder_identity
    except errors.NotFound:
        return ""


async def test_a_failed_bind_is_forgotten_and_retried(client, monkeypatch):
    """A bind plugin that fails its first call (a test double: the real API server does not fail
    on demand). The node's room must be given back and the pod bound on the next attempt."""
    class FlakyBinder(BindPlugin):
        name = "FlakyBinder"
        calls = 0

        def __init__(self, handle):
            self._handle = handle

        async def bind(self, state, pod, node_name):
            FlakyBinder.calls += 1
            if FlakyBinder.calls == 1:
                assert self._handle.cache.is_assumed(pod.key)
                raise errors.Unavailable(None, "connection reset")
            await self._handle.client.resource("Pod").bind(pod.name, node_name, namespace=pod.namespace)

    monkeypatch.setitem(registry.PLUGINS, "FlakyBinder", FlakyBinder)
    plugins = tuple((n, w) for n, w in Profile().plugins if n != "DefaultBinder") + (("FlakyBinder", 0),)
    config = dataclasses.replace(FAST, profiles=(Profile(plugins=plugins),))
    await client.resource("Node").create(node("n1", cpu="1"))
    async with running(client, config) as scheduler:
        await client.resource("Pod").create(pod("p", cpu="1"))
        assert await bound_to(client, "p") == "n1"
        assert (await failed_scheduling(client, "p")) == "Binding rejected: connection reset"
        assert FlakyBinder.calls == 2 and scheduler.metrics.results["error"] == 1
        row = scheduler.cache.nodes.row_of["n1"]
        assert scheduler.cache.nodes.req_cpu[row] == 1000      # counted once, not twice
