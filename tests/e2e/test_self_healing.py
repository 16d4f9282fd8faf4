"""Self-healing with real agents: a node that stops reporting, a controller manager that dies mid-rollout,
and deletions that reach the containers on the nodes.

One 2-node local cluster for the module, its controllers run as a `cox controller-manager` of their own
(so it can be killed alone) with the timings shortened:

- --node-monitor-grace-period 20 s: the agent heartbeats every 10 s, so this is the shortest grace that
  still leaves room for a late heartbeat on a loaded machine before a healthy node is judged lost;
- the test's pods tolerate the unreachable and not-ready taints for TOLERATION seconds, in their
  manifest, as a user who wants fast failover would write it (the API server's default is 300 s);
- a leader-election Lease of 8 s, so a restarted controller manager takes over soon after the old one's
  Lease runs out.

The lost node's agent is killed (SIGKILL), not stopped (SIGSTOP): an agent that crashed while its machine
stays up, the node's dockerd and the pods' containers running on. As in Kubernetes, nothing touches those
containers while the agent is away: eviction only marks the pods deleted in the API, and nobody confirms
the deletions. The restarted agent finds containers of pods that are no longer its to run, stops and
removes them, and confirms the deletions. A SIGSTOPped agent would resume with its memory of the pods,
which tests less: a new agent must rebuild what it knows from the API and its containers' labels.
"""
import asyncio
import contextlib
import secrets
import time

import pytest

from agent.kubelet.config import KubeletConfig
from agent.network import veth
from agent.runtime import labels
from controlplane.api.defaults import NOT_READY_TAINT, UNREACHABLE_TAINT
from controlplane.api.kinds import KINDS
from controlplane.client.errors import NotFound
from controlplane.controllers import pods as podutil
from controlplane.controllers import rollout
from controlplane.controllers.manager import LEASE_NAME
from controlplane.controllers.nodelifecycle import ready_status
from tests.e2e import workloads
from tests.e2e.workloads import deployment, service
from tests.support.census import PodCensus
from tests.support.cluster import local_cluster
from tests.support.polling import eventually
from tests.support.objects import modify

GRACE = 20          # --node-monitor-grace-period
TOLERATION = 5      # the pods' tolerationSeconds of the unreachable and not-ready taints
LEASE = 8           # --leader-elect-lease-duration of the controller manager
SLACK = 120         # on top of what the semantics need: a loaded 2-core machine is slow, not wrong


@pytest.fixture(scope="module")
def two_nodes():
    with local_cluster(nodes=2, controller_manager_args=(
            f"--node-monitor-grace-period={GRACE}", "--node-monitor-period=1",
            f"--leader-elect-lease-duration={LEASE}", "--leader-elect-renew-deadline=6",
            "--leader-elect-retry-period=1")) as cluster:
        yield cluster


@pytest.fixture
async def ns(two_nodes):
    """A namespace of the test's own (deleted at the end unless the test did it), and a client."""
    name = f"heal-{secrets.token_hex(3)}"
    async with two_nodes.client(timeout=30) as client:
        await client.resource("Namespace").create(KINDS["Namespace"].new(metadata={"name": name}))
        try:
            yield client, name
        finally:
            with contextlib.suppress(NotFound):
                await client.resource("Namespace").delete(name)


def web(name: str, *, namespace: str, replicas: int, ready_after: int = 0):
    """The e2e Deployment of busybox httpd (Ready once it listens, and `ready_after` seconds have
    passed), its pods tolerating a lost node for TOLERATION seconds and spread over the nodes (a
    preference, strong enough to win over the resource scores that other tests' pods still on a node
    would otherwise tip; a requirement would keep replacements off the only node left)."""
    d = deployment(name, replicas=replicas, namespace=namespace)
    pod = d.spec.template.spec
    pod.containers[0].readiness_probe.initial_delay_seconds = ready_after
    for key in (UNREACHABLE_TAINT, NOT_READY_TAINT):
        pod.tolerations.add(key=key, operator="Exists", effect="NoExecute", toleration_seconds=TOLERATION)
    spread = pod.topology_spread_constraints.add(max_skew=1, topology_key="kubernetes.io/hostname",
                                                 when_unsatisfiable="ScheduleAnyway")
    spread.label_selector.match_labels["app"] = name
    return d


async def pods_of(client, namespace: str, app: str) -> list:
    return (await client.resource("Pod").list(namespace=namespace, label_selector=f"app={app}")).items


async def rolled_out(client, namespace: str, name: str):
    d = await client.resource("Deployment").get(name, namespace=namespace)
    return d if rollout.rollout_message(d)[1] else None


def containers_of(cluster, node: str, **match: str) -> list[dict]:
    """The kubelet's containers on `node` (running or not) carrying these labels."""
    with cluster.docker(node, timeout=60) as api:
        return api.containers(all=True, filters={"label": labels.managed_filter(**match)})


async def no_containers_left(cluster, **match: str) -> bool:
    for node in cluster.nodes:
        if await asyncio.to_thread(containers_of, cluster, node, **match):
            return False
    return True


def lifecycle_taints(node) -> set[tuple[str, str]]:
    return {(t.key, t.effect) for t in node.spec.taints if t.key in (UNREACHABLE_TAINT, NOT_READY_TAINT)}


# ---------------------------------------------------------------- a node stops reporting

async def test_a_silent_nodes_pods_are_evicted_and_recreated_on_the_other_node(two_nodes, ns):
    cluster, (client, namespace) = two_nodes, ns
    healthy, lost = cluster.nodes
    nodes = client.resource("Node")
    await client.resource("Deployment").create(web("web", namespace=namespace, replicas=4))
    await eventually(lambda: rolled_out(client, namespace, "web"), timeout=SLACK, what="web rolled out")
    before = await pods_of(client, namespace, "web")
    on_lost = {p.metadata.uid: p for p in before if p.spec.node_name == lost}
    assert on_lost and len(on_lost) < 4, f"the scheduler should spread 4 pods over 2 nodes: " \
                                         f"{[p.spec.node_name for p in before]}"

    cluster.kill_agent(lost)
    try:
        killed = time.monotonic()

        async def unknown():
            node = await nodes.get(lost)
            return node if ready_status(node) == "Unknown" else None
        node = await eventually(unknown, timeout=GRACE + SLACK, interval=0.5, what=f"{lost} Ready=Unknown")
        silent = time.monotonic() - killed
        assert all(c.status == "Unknown" for c in node.status.conditions), node.status.conditions
        # Its last heartbeat came at most one heartbeat period before the kill: not judged before the grace.
        assert silent >= GRACE - KubeletConfig.heartbeat_seconds, f"Unknown after {silent:.1f}s"
        print(f"{lost}: Ready=Unknown {silent:.1f}s after its agent was killed")

        async def tainted():
            node = await nodes.get(lost)
            return lifecycle_taints(node) == {(UNREACHABLE_TAINT, "NoExecute"), (UNREACHABLE_TAINT, "NoSchedule")}
        await eventually(tainted, timeout=SLACK, interval=0.5, what=f"{lost} tainted unreachable")
        assert ready_status(await nodes.get(healthy)) == "True"

        async def replaced():
            """The lost node's pods evicted (being deleted), and 4 ready ones on the healthy node."""
            pods = await pods_of(client, namespace, "web")
            evicted = all(podutil.is_deleting(p) for p in pods if p.metadata.uid in on_lost)
            active = [p for p in pods if podutil.is_active(p)]
            return evicted and len(active) == 4 and all(p.spec.node_name == healthy and podutil.is_ready(p)
                                                         for p in active)
        await eventually(replaced, timeout=TOLERATION + SLACK, interval=0.5,
                         what=f"the pods of {lost} evicted and recreated ready on {healthy}")
        print(f"{lost}: its pods replaced by ready ones on {healthy} {time.monotonic() - killed:.1f}s after the kill")
        # Nobody on the lost node confirms the deletion: the pods stay Terminating, their containers run on.
        left = {p.metadata.uid for p in await pods_of(client, namespace, "web")} & on_lost.keys()
        assert left == on_lost.keys()
        found = await asyncio.to_thread(containers_of, cluster, lost, **{labels.POD_NAMESPACE: namespace})
        assert {c["Labels"][labels.POD_UID] for c in found if c["State"] == "running"} == on_lost.keys()
    finally:
        cluster.start_agent(lost)   # even after a failure: the module's other tests need both nodes

    async def back():
        node = await nodes.get(lost)
        return ready_status(node) == "True" and not lifecycle_taints(node)
    await eventually(back, timeout=SLACK, interval=0.5, what=f"{lost} Ready again without its taints")

    async def cleaned_up():
        """The agent stopped the evicted pods' containers, removed them, and confirmed the deletions."""
        pods = await pods_of(client, namespace, "web")
        return not {p.metadata.uid for p in pods} & on_lost.keys() and not await asyncio.to_thread(
            containers_of, cluster, lost, **{labels.POD_NAMESPACE: namespace})
    await eventually(cleaned_up, timeout=SLACK, interval=0.5, what=f"the evicted pods gone from {lost}")
    d = await client.resource("Deployment").get("web", namespace=namespace)
    assert (d.status.replicas, d.status.available_replicas) == (4, 4)


# ---------------------------------------------------------------- the controller manager dies mid-rollout

async def test_a_rollout_interrupted_by_a_killed_controller_manager_finishes_without_duplicates(two_nodes, ns):
    cluster, (client, namespace) = two_nodes, ns
    replicas, surge, unavailable = 4, 1, 1
    deployments, leases = client.resource("Deployment"), client.resource("Lease")
    # Ready 2 s after start: a rollout of several steps, so the kill lands in its middle.
    d = web("roll", namespace=namespace, replicas=replicas, ready_after=2)
    d.spec.strategy.type = "RollingUpdate"
    d.spec.strategy.rolling_update.max_surge.number_value = surge
    d.spec.strategy.rolling_update.max_unavailable.number_value = unavailable
    await deployments.create(d)
    await eventually(lambda: rolled_out(client, namespace, "roll"), timeout=SLACK, what="roll rolled out")
    old_hash, = {p.metadata.labels[rollout.POD_TEMPLATE_HASH] for p in await pods_of(client, namespace, "roll")}
    lease = await leases.get(LEASE_NAME, namespace="kube-system")
    leader = lease.spec.holder_identity
    assert lease.spec.lease_duration_seconds == LEASE   # the flag reached the controller manager

    async with PodCensus(client, "app=roll", namespace=namespace) as census:
        def change(d):
            d.spec.template.spec.containers[0].env.add(name="VERSION", value="2")
        await modify(deployments, "roll", change, namespace=namespace)

        def new_pods():
            return [p for p in census.active() if p.metadata.labels[rollout.POD_TEMPLATE_HASH] != old_hash]

        async def started():
            return bool(new_pods())
        await eventually(started, timeout=SLACK, what="the first pod of the new template")
        cluster.kill_controller_manager()
        try:
            pods = await pods_of(client, namespace, "roll")
            assert any(podutil.is_active(p) and p.metadata.labels[rollout.POD_TEMPLATE_HASH] == old_hash
                       for p in pods), "the rollout was over before the controller manager was killed"
        finally:
            cluster.start_controller_manager()

        d = await eventually(lambda: rolled_out(client, namespace, "roll"), timeout=SLACK,
                             what="the rollout finished by the restarted controller manager")

        async def settled():
            return len(census.active()) == replicas == len(new_pods()) and all(map(podutil.is_ready, new_pods()))
        await eventually(settled, timeout=SLACK, what=f"{replicas} ready pods of the new template")
    assert census.templates_together, "a rolling update overlaps old and new pods"
    assert census.max_active <= replicas + surge
    assert census.min_ready >= replicas - unavailable
    assert (await leases.get(LEASE_NAME, namespace="kube-system")).spec.holder_identity != leader

    new_hash = new_pods()[0].metadata.labels[rollout.POD_TEMPLATE_HASH]
    rss = (await client.resource("ReplicaSet").list(namespace=namespace)).items
    assert sorted((rs.metadata.name, rs.spec.replicas, rs.metadata.annotations[rollout.REVISION]) for rs in rss) \
        == sorted([(f"roll-{old_hash}", 0, "1"), (f"roll-{new_hash}", replicas, "2")])
    assert d.metadata.annotations[rollout.REVISION] == "2"
    assert (d.status.replicas, d.status.updated_replicas, d.status.available_replicas) == (replicas,) * 3

    async def only_the_new_pods_anywhere():
        """The old pods' deletions confirmed, and on the nodes exactly the new pods' containers."""
        pods = await pods_of(client, namespace, "roll")
        uids = {p.metadata.uid for p in pods}
        on_nodes = set()
        for node in cluster.nodes:
            found = await asyncio.to_thread(containers_of, cluster, node, **{labels.POD_NAMESPACE: namespace})
            on_nodes |= {c["Labels"][labels.POD_UID] for c in found}
        return len(pods) == replicas and on_nodes == uids
    await eventually(only_the_new_pods_anywhere, timeout=SLACK, interval=0.5,
                     what=f"{replicas} pods and their containers, nothing else")


# ---------------------------------------------------------------- deletions reach the nodes

@pytest.mark.parametrize("propagation", ["Background", "Foreground"])
async def test_deleting_a_deployment_removes_its_replica_sets_pods_and_containers(two_nodes, ns, propagation):
    cluster, (client, namespace) = two_nodes, ns
    await client.resource("Deployment").create(web("gone", namespace=namespace, replicas=3))
    await eventually(lambda: rolled_out(client, namespace, "gone"), timeout=SLACK, what="gone rolled out")
    pods = await pods_of(client, namespace, "gone")
    assert len({p.spec.node_name for p in pods}) == 2   # containers on both nodes to remove
    await client.resource("Deployment").delete("gone", namespace=namespace, propagation_policy=propagation)

    async def all_gone():
        deployments = (await client.resource("Deployment").list(namespace=namespace)).items
        rss = (await client.resource("ReplicaSet").list(namespace=namespace)).items
        return not deployments and not rss and not await pods_of(client, namespace, "gone") \
            and await no_containers_left(cluster, **{labels.POD_NAMESPACE: namespace})
    await eventually(all_gone, timeout=SLACK, interval=0.5, what="the Deployment, its ReplicaSet, pods, containers")


async def test_deleting_a_namespace_empties_it_down_to_the_containers(two_nodes, ns):
    cluster, (client, namespace) = two_nodes, ns
    await client.resource("Deployment").create(web("app", namespace=namespace, replicas=2))
    await client.resource("Service").create(service("app", namespace=namespace))
    await client.resource("ConfigMap").create(KINDS["ConfigMap"].new(
        metadata={"name": "settings", "namespace": namespace}, data={"a": "1"}))
    await eventually(lambda: rolled_out(client, namespace, "app"), timeout=SLACK, what="app rolled out")
    assert await asyncio.to_thread(lambda: any(containers_of(cluster, n, **{labels.POD_NAMESPACE: namespace})
                                               for n in cluster.nodes))

    deleting = await client.resource("Namespace").delete(namespace)
    assert deleting.status.phase == "Terminating"

    async def namespace_gone():
        try:
            await client.resource("Namespace").get(namespace)
        except NotFound:
            return True
        return False
    await eventually(namespace_gone, timeout=SLACK, interval=0.5, what=f"namespace {namespace} gone")
    for kind in ("Deployment", "ReplicaSet", "Pod", "Service", "Endpoints", "ConfigMap", "ServiceAccount"):
        assert not (await client.resource(kind).list(namespace=namespace)).items, kind
    assert await no_containers_left(cluster, **{labels.POD_NAMESPACE: namespace})


# ---------------------------------------------------------------- a sandbox the agent never wired

FETCH = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())"

async def test_a_sandbox_an_agent_left_unwired_is_replaced_and_the_pod_answers_again(two_nodes, ns):
    """The agent was killed, or Docker's answer to the start timed out (seen on emulated VMs), between
    a sandbox's start and its wiring into the pod network: the pod's namespace has only `lo`. The
    agent must not run the pod's containers in it: it replaces the sandbox, and the pod keeps its IP."""
    client, namespace = ns
    node = two_nodes.nodes[0]
    await client.resource("Pod").create(workloads.pod("lonely", node=node, command=workloads.HTTPD,
                                                      namespace=namespace))

    async def ready():
        p = await client.resource("Pod").get("lonely", namespace=namespace)
        return p if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions) else None

    first = await eventually(ready, timeout=SLACK, what="the pod Ready")
    two_nodes.kill_agent(node)
    # What the dead agent left: the sandbox runs, but its pair into the pod bridge was never made.
    two_nodes.run_in_node(node, ["ip", "link", "del", veth.host_ifname(first.metadata.uid, 0)])
    two_nodes.start_agent(node)

    async def answering_again():
        p = await ready()
        if p is None or not any(int(c["Labels"][labels.ATTEMPT]) == 1 for c in await asyncio.to_thread(
                containers_of, two_nodes, node, **{labels.POD_UID: p.metadata.uid, labels.KIND: "sandbox"})):
            return None
        page = await asyncio.to_thread(two_nodes.run_in_node, node, ["python3", "-c", FETCH,
                                                                     f"http://{p.status.pod_ip}:8080/"])
        return p if page.strip() == "lonely" else None

    again = await eventually(answering_again, timeout=SLACK, interval=1, what="a new sandbox, wired and answering")
    assert again.status.pod_ip == first.status.pod_ip, "the pod keeps its IP across sandboxes"
