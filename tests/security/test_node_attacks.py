"""A compromised node, replayed: what the join token, or node A's own credential, tries against the cluster.

Each attack runs against a real 2-node local cluster (`cox local up`, real
agents that bootstrapped their credentials), must be refused with
PERMISSION_DENIED, and must change nothing. The positive side runs on the
same cluster: node A's agent still reads what its own pods need.
"""
import asyncio
import subprocess
import sys

import pytest
from google.protobuf.message import Message

from agent.kubelet.credential import KUBELET_CONFIG
from controlplane.api.kinds import KINDS
from controlplane.api.wellknown import AGENT_CERT_ANNOTATION, MIRROR_POD_ANNOTATION, NODE_LEASE_NAMESPACE
from controlplane.client import Client, errors, load_config
from controlplane.client.join import join_config
from tests.e2e.workloads import HTTPD, exec_in_pod, pod, ready_endpoints, running_pod, service
from tests.support.cluster import local_cluster
from tests.support.control_plane import REPO, cox_env
from tests.support.polling import eventually

A, B = "node1", "node2"


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(nodes=2) as running:
        yield running


@pytest.fixture
async def admin(cluster):
    async with cluster.client() as client:
        yield client


def node_credential(cluster, node: str):
    return load_config(cluster.layout.node_dir(node) / "agent" / KUBELET_CONFIG)


@pytest.fixture
async def node_a(cluster):
    async with Client(node_credential(cluster, A)) as client:
        yield client


@pytest.fixture
async def join_token_holder(cluster):
    token = (cluster.layout.server_dir / "node-token").read_text().strip()
    config = await asyncio.to_thread(join_config, cluster.state.server_address, token)
    async with Client(config) as client:
        yield client


@pytest.fixture(scope="module")
def victims(cluster):
    """On node B: a pod using a Secret, behind a Service; what an attacker on A would go for."""
    async def make():
        async with cluster.client() as admin:
            await admin.resource("Secret").create(KINDS["Secret"].new(
                metadata={"name": "b-db", "namespace": "default"}, string_data={"password": "hunter2"}))
            victim = pod("victim", node=B, command=HTTPD, pod_labels={"app": "victim"})
            victim.spec.volumes.add(name="db", secret={"secret_name": "b-db"})
            victim.spec.containers[0].volume_mounts.add(name="db", mount_path="/db")
            await admin.resource("Pod").create(victim)
            await admin.resource("Service").create(service("victim"))
            await running_pod(admin, "victim")
            await eventually(lambda: ready_endpoints(admin, "victim"), what="the victim's endpoints")
    asyncio.run(make())


ROOT_GRAB = {"host_network": True, "node_name": B, "volumes": [{"name": "root", "host_path": {"path": "/"}}],
             "containers": [{"name": "grab", "image": "busybox", "command": ["cat", "/host/var/lib/cox/tokens"],
                             "volume_mounts": [{"name": "root", "mount_path": "/host"}]}]}


async def snapshot(admin: Client) -> dict[str, list[bytes]]:
    """Everything an attack could touch, to check it changed nothing."""
    kinds = ("Pod", "Node", "Secret", "Endpoints", "Lease", "Service")
    return {kind: sorted(o.SerializeToString(deterministic=True)
                         for o in (await admin.resource(kind).list()).items if not _heartbeat(kind, o))
            for kind in kinds}


def _heartbeat(kind: str, obj: Message) -> bool:
    """Objects renewed on their own while the test runs (leases, node status) are compared elsewhere."""
    return kind in ("Lease", "Node")


async def refused(attack) -> str:
    with pytest.raises(errors.Forbidden) as caught:
        await attack
    return caught.value.message


def as_node_b(node: Message) -> Message:
    copy = type(node)()
    copy.CopyFrom(node)
    return copy


async def test_the_join_token_alone_can_only_ask_for_a_credential(cluster, victims, admin, join_token_holder):
    before = await snapshot(admin)
    attacker = join_token_holder
    root_pod = KINDS["Pod"].new(metadata={"name": "grab", "namespace": "default"}, spec=ROOT_GRAB)
    node_b = await admin.resource("Node").get(B)
    node_b.metadata.annotations[AGENT_CERT_ANNOTATION] = "0" * 64
    endpoints = await admin.resource("Endpoints").get("victim", namespace="default")
    endpoints.subsets[0].addresses.add(ip="198.19.9.9")
    scheduler_lease = await admin.resource("Lease").get("cox-scheduler", namespace="kube-system")
    scheduler_lease.spec.holder_identity = "attacker"
    victim = await admin.resource("Pod").get("victim", namespace="default")
    victim.status.phase = "Failed"
    for attack in (attacker.resource("Pod").create(root_pod), attacker.resource("Secret").list(),
                   attacker.resource("Secret").get("b-db", namespace="default"),
                   attacker.resource("Node").update(node_b), attacker.resource("Endpoints").update(endpoints),
                   attacker.resource("Lease").update(scheduler_lease), attacker.resource("Pod").update_status(victim),
                   attacker.resource("Pod").delete("victim", namespace="default")):
        assert "may only ask for a node credential" in await refused(attack)
    held = KINDS["NodeCredentialRequest"].new(metadata={"generate_name": "x-"}, spec={"node_name": B})
    assert 'is held by a live node' in await refused(attacker.resource("NodeCredentialRequest").create(held))
    assert await snapshot(admin) == before
    assert (await admin.resource("Node").get(B)).metadata.annotations[AGENT_CERT_ANNOTATION] != "0" * 64


async def test_node_a_cannot_touch_node_b_or_its_pods(cluster, victims, admin, node_a):
    before = await snapshot(admin)
    root_pod = KINDS["Pod"].new(metadata={"name": "grab", "namespace": "default"}, spec=ROOT_GRAB)
    assert "only create mirror pods" in await refused(node_a.resource("Pod").create(root_pod))
    disguised = KINDS["Pod"].new(metadata={"name": "grab", "namespace": "default",
                                           "annotations": {MIRROR_POD_ANNOTATION: "x"}}, spec=ROOT_GRAB)
    assert "bound to itself" in await refused(node_a.resource("Pod").create(disguised))
    greedy = KINDS["Pod"].new(metadata={"name": "greedy", "namespace": "default",
                                        "annotations": {MIRROR_POD_ANNOTATION: "x"}},
                              spec={"node_name": A, "volumes": [{"name": "s", "secret": {"secret_name": "b-db"}}],
                                    "containers": [{"name": "c", "image": "busybox"}]})
    assert "may not refer to API objects" in await refused(node_a.resource("Pod").create(greedy))

    victim = await node_a.resource("Pod").get("victim", namespace="default")     # reading pods is allowed
    victim.status.phase = "Failed"
    assert "bound to it" in await refused(node_a.resource("Pod").update_status(victim))
    assert "bound to it" in await refused(node_a.resource("Pod").delete("victim", namespace="default"))

    node_b = await node_a.resource("Node").get(B)
    node_b.metadata.annotations[AGENT_CERT_ANNOTATION] = "0" * 64
    assert "its own Node" in await refused(node_a.resource("Node").update(node_b))
    node_b = await node_a.resource("Node").get(B)
    node_b.status.daemon_endpoints.kubelet_endpoint.port = 1
    assert "its own Node" in await refused(node_a.resource("Node").update_status(node_b))
    evil = KINDS["Node"].new(metadata={"name": "evil"})
    assert "its own Node" in await refused(node_a.resource("Node").create(evil))

    lease_b = await admin.resource("Lease").get(B, namespace=NODE_LEASE_NAMESPACE)
    lease_b.spec.holder_identity = A
    assert "its own Lease" in await refused(node_a.resource("Lease").update(lease_b))
    for name in ("cox-scheduler", "cox-controller-manager"):
        lease = await admin.resource("Lease").get(name, namespace="kube-system")
        lease.spec.holder_identity = "attacker"
        assert "its own Lease" in await refused(node_a.resource("Lease").update(lease))
        assert "its own Lease" in await refused(node_a.resource("Lease").get(name, namespace="kube-system"))

    endpoints = await node_a.resource("Endpoints").get("victim", namespace="default")
    endpoints.subsets[0].addresses.add(ip="198.19.9.9")
    assert "may not update Endpoints" in await refused(node_a.resource("Endpoints").update(endpoints))

    for attack in (node_a.resource("Secret").get("b-db", namespace="default"), node_a.resource("Secret").list(),
                   node_a.resource("Secret").list(namespace="default")):
        assert "only while a pod bound to it refers to it" in await refused(attack)
    takeover = KINDS["NodeCredentialRequest"].new(metadata={"generate_name": "x-"}, spec={"node_name": B})
    assert "only renew its own" in await refused(node_a.resource("NodeCredentialRequest").create(takeover))
    assert await snapshot(admin) == before
    assert (await admin.resource("Node").get(B)).metadata.annotations[AGENT_CERT_ANNOTATION] != "0" * 64


async def test_node_a_cannot_raise_itself(cluster, admin, node_a):
    own = await node_a.resource("Node").get(A)
    own.metadata.labels["node-role.kubernetes.io/control-plane"] = ""
    assert "metadata.labels" in await refused(node_a.resource("Node").update(own))
    await admin.resource("Node").update(_tainted(await admin.resource("Node").get(A)))
    try:
        own = await node_a.resource("Node").get(A)
        del own.spec.taints[:]
        assert "spec.taints" in await refused(node_a.resource("Node").update(own))
        assert [t.key for t in (await admin.resource("Node").get(A)).spec.taints] == ["quarantine"]
    finally:
        untainted = await admin.resource("Node").get(A)
        del untainted.spec.taints[:]
        await admin.resource("Node").update(untainted)


def _tainted(node: Message) -> Message:
    node.spec.taints.add(key="quarantine", effect="NoSchedule")
    return node


async def test_not_even_the_admin_may_repoint_a_nodes_agent(cluster, admin):
    node = await admin.resource("Node").get(B)
    node.metadata.annotations[AGENT_CERT_ANNOTATION] = "0" * 64
    assert "only node node2 itself may set it" in await refused(admin.resource("Node").update(node))


async def test_node_a_still_reads_what_its_own_pods_need(cluster, admin, node_a):
    await admin.resource("Secret").create(KINDS["Secret"].new(
        metadata={"name": "a-db", "namespace": "default"}, string_data={"password": "swordfish"}))
    await admin.resource("ConfigMap").create(KINDS["ConfigMap"].new(
        metadata={"name": "a-settings", "namespace": "default"}, data={"mode": "fast"}))
    own = pod("own", node=A)
    own.spec.volumes.add(name="db", secret={"secret_name": "a-db"})
    main = own.spec.containers[0]
    main.volume_mounts.add(name="db", mount_path="/db")
    main.env.add(name="MODE", value_from={"config_map_key_ref": {"name": "a-settings", "key": "mode"}})
    main.env.add(name="PASSWORD", value_from={"secret_key_ref": {"name": "a-db", "key": "password"}})
    created = await admin.resource("Pod").create(own)
    running = await running_pod(admin, "own")
    code, output = exec_in_pod(cluster, running, 'cat /db/password; echo " $MODE $PASSWORD"')
    assert (code, output.strip()) == (0, "swordfish fast swordfish")
    secret = await node_a.resource("Secret").get("a-db", namespace="default")
    assert secret.data["password"] == b"swordfish"
    await admin.resource("Pod").delete(created.metadata.name, namespace="default", grace_period_seconds=0)


def cox(cluster, *args: str) -> str:
    run = subprocess.run([sys.executable, "-m", "controlplane.cli", "--config", str(cluster.info.config), *args],
                         capture_output=True, text=True, cwd=REPO, env=cox_env(cluster.layout.state_dir / "home"),
                         timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_every_node_shows_its_approved_request_and_identity(cluster):
    table = cox(cluster, "get", "ncr").splitlines()
    assert table[0].split() == ["NAME", "AGE", "NODE", "REQUESTOR", "EXPIRES", "CONDITION"]
    rows = [line.split() for line in table[1:]]
    assert {row[2] for row in rows} == {A, B}
    assert all(row[3] == "system:bootstrap:join-token" and row[5] == "Approved" for row in rows)
    page = cox(cluster, "describe", "node", A)
    assert f"Identity:" in page and f"system:node:{A} (group system:nodes)" in page
    assert "AutoApprovedBootstrap" in page
