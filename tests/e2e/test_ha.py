"""The highly available control plane (issue 13) on `cox local up --servers 3 --nodes 2`.

Three `cox server`s, each in a namespace of its own over their embedded etcd; the agents and this test's
clients name all three. While a Deployment scales from 2 to 10, the server holding the controller
manager's and scheduler's Leases is killed (SIGKILL; its etcd member dies with it): another server takes
the Leases, the Deployment converges with never more than 10 pods, and every write acknowledged before,
during and after is there. Then a second server and its member go down while the first is back: writes
still succeed (2 of 3 members), and the one brought back catches up. The nodes stay Ready throughout:
their agents move to another server.

Timings: a leader-election Lease of 8 s (renew deadline 6 s, retry 1 s), so a dead leader's work
resumes within about 8 s plus a retry; SLACK on top, for a loaded 2-core machine.
"""
import asyncio
import contextlib
import secrets
import time

import pytest

from controlplane.api.kinds import KINDS
from controlplane.client import Client, ClientConfig, Informer, load_config
from controlplane.client.errors import ApiError
from controlplane.controllers import pods as podutil
from controlplane.controllers.manager import LEASE_NAME
from controlplane.scheduler.config import LeaderElection
from tests.e2e.workloads import deployment
from tests.support.census import PodCensus
from tests.support.cluster import local_cluster
from tests.support.objects import modify
from tests.support.polling import eventually

LEASE = 8
SLACK = 90
SCHEDULER_LEASE = LeaderElection().resource_name


@pytest.fixture(scope="module")
def ha_cluster():
    with local_cluster(nodes=2, servers=3, timeout=300, server_args=(
            f"--leader-elect-lease-duration={LEASE}", "--leader-elect-renew-deadline=6",
            "--leader-elect-retry-period=1")) as cluster:
        yield cluster


class Writer:
    """Creates ConfigMaps one after another through the clients' server list; remembers the acknowledged."""

    def __init__(self, client: Client, namespace: str):
        self.client, self.namespace = client, namespace
        self.acknowledged: list[str] = []
        self.failures = 0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        i = 0
        while True:
            name = f"w{i}"
            try:
                await self.client.resource("ConfigMap").create(
                    KINDS["ConfigMap"].new(metadata={"name": name, "namespace": self.namespace}))
                self.acknowledged.append(name)
                i += 1
            except ApiError as e:
                if e.code.name == "ALREADY_EXISTS":   # written, its answer lost with the server: it counts
                    i += 1
                else:
                    self.failures += 1
                    await asyncio.sleep(0.2)
            await asyncio.sleep(0.05)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def acknowledged_since(self, count: int, *, more: int = 5) -> None:
        """Wait until `more` writes were acknowledged after the first `count`."""
        async def enough():
            return len(self.acknowledged) >= count + more
        await eventually(enough, timeout=SLACK, what=f"{more} more acknowledged writes")


class NodeWatch:
    """Every moment a node was seen not Ready, from a Node informer (which fails over, too)."""

    def __init__(self, client: Client):
        self.informer = Informer(client.resource("Node"))
        self.not_ready: list[tuple[str, str]] = []
        self.informer.add_handler(on_add=self._look, on_update=lambda _old, new: self._look(new))

    def _look(self, node) -> None:
        ready = [c.status for c in node.status.conditions if c.type == "Ready"]
        if ready != ["True"]:
            self.not_ready.append((node.metadata.name, ",".join(ready) or "no condition"))


def _holder_pid(lease) -> int:
    return int(lease.spec.holder_identity.split("_")[1])


async def _lease_holders(client: Client) -> tuple[int, int]:
    leases = client.resource("Lease")
    cm = await leases.get(LEASE_NAME, namespace="kube-system")
    scheduler = await leases.get(SCHEDULER_LEASE, namespace="kube-system")
    return _holder_pid(cm), _holder_pid(scheduler)


def _pinned(cluster, server_name: str) -> Client:
    """A client of that one server only."""
    config = load_config(cluster.info.config)
    server = next(s for s in cluster.state.servers if s.name == server_name)
    return Client(ClientConfig(server=server.address, ca=config.ca, token=config.token), timeout=10)


async def _names_on(cluster, server_name: str, namespace: str) -> set[str]:
    async with _pinned(cluster, server_name) as client:
        return {c.metadata.name for c in (await client.resource("ConfigMap").list(namespace=namespace)).items}


async def test_losing_the_leader_server_then_an_etcd_member_loses_nothing(ha_cluster):
    cluster = ha_cluster
    namespace = f"ha-{secrets.token_hex(3)}"
    servers = {s.proc.pid: s.name for s in cluster.state.servers}
    async with cluster.client(timeout=15) as client:
        await client.resource("Namespace").create(KINDS["Namespace"].new(metadata={"name": namespace}))
        nodes = NodeWatch(client)
        nodes.informer.start()
        await nodes.informer.wait_synced(10)
        writer = Writer(client, namespace)
        writer.start()
        try:
            d = deployment("web", replicas=2, namespace=namespace)
            await client.resource("Deployment").create(d)

            async def running(count):
                pods = (await client.resource("Pod").list(namespace=namespace, label_selector="app=web")).items
                return sum(1 for p in pods if p.status.phase == "Running") == count
            await eventually(lambda: running(2), timeout=SLACK, what="2 pods running")
            cm_pid, scheduler_pid = await eventually(lambda: _lease_holders(client), timeout=SLACK,
                                                     what="both Leases held")
            leader = servers[cm_pid]
            async with PodCensus(client, "app=web", namespace=namespace) as census:
                before_kill = len(writer.acknowledged)

                def to_10(d):
                    d.spec.replicas = 10
                await modify(client.resource("Deployment"), "web", to_10, namespace=namespace)
                killed_at = time.monotonic()
                cluster.kill_server(leader)

                async def moved():
                    holders = await _lease_holders(client)
                    alive = set(servers) - {cm_pid}
                    return all(pid in alive for pid in holders) and holders
                new_cm_pid, _ = await eventually(moved, timeout=LEASE + SLACK, interval=0.5,
                                                 what="the Leases taken by a live server")
                moved_after = time.monotonic() - killed_at

                async def converged():
                    return len(census.active()) == 10 and all(p.status.phase == "Running" for p in census.active())
                await eventually(converged, timeout=3 * SLACK, interval=0.5, what="10 pods running")
                await asyncio.sleep(3)   # anything extra would be made by now
                assert census.max_active == 10, f"{census.max_active} pods at once"
                pods = (await client.resource("Pod").list(namespace=namespace, label_selector="app=web")).items
                assert len([p for p in pods if podutil.is_active(p)]) == 10
            print(f"Leases moved {moved_after:.1f}s after the kill (Lease {LEASE}s); scheduler was on "
                  f"{servers.get(scheduler_pid)}, controllers on {leader}")
            await writer.acknowledged_since(before_kill)

            # The killed server back: it catches up; then another server and its member go down.
            cluster.start_server(leader)
            await eventually(lambda: _has_all(cluster, leader, namespace, writer), timeout=SLACK, interval=1,
                             what=f"{leader} caught up")
            second = next(name for name in servers.values() if name != leader and servers[new_cm_pid] != name)
            cluster.kill_server(second)
            down_from = len(writer.acknowledged)
            await writer.acknowledged_since(down_from, more=20)   # 2 of 3 members: writes go on
            cluster.start_server(second)
            await eventually(lambda: _has_all(cluster, second, namespace, writer), timeout=SLACK, interval=1,
                             what=f"{second} caught up")
        finally:
            await writer.stop()
            await nodes.informer.stop()
        present = {c.metadata.name for c in (await client.resource("ConfigMap").list(namespace=namespace)).items}
        missing = [n for n in writer.acknowledged if n not in present]
        assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:10]}"
        assert len(writer.acknowledged) > 40
        assert nodes.not_ready == [], f"nodes seen not Ready: {nodes.not_ready}"
        await client.resource("Namespace").delete(namespace)


async def _has_all(cluster, server_name: str, namespace: str, writer: Writer) -> bool:
    try:
        names = await _names_on(cluster, server_name, namespace)
    except ApiError:
        return False
    return set(writer.acknowledged) <= names
