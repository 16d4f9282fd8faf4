"""Hollow nodes: a TEST AND BENCHMARK TOOL that stands in for thousands of nodes.

Kubemark's idea: a node agent whose container runtime is memory. Each hollow
node registers its Node (with the capacity, labels and taints it is given)
and heartbeats through its Lease in kube-node-lease, as a kubelet does; pods
bound to it "run" at once (status Running with a made-up pod IP, when
`run_pods`), and pods deleted gracefully are finished off (deleted with grace
0) the way a kubelet does once their containers stop. Many hollow nodes share
one process, one client connection, one pod watch and one heartbeat task,
so a laptop can hold thousands.

The API calls are the kubelet's: Node create (or take-over), Lease
create/renew, status writes. The kubelet's own NodeStatusReporter
(agent/kubelet/node.py) reads capacity from the host and needs a Docker
runtime; once it accepts injected node facts, hollow nodes should drive it
instead of the small copy of its protocol below (see the scheduler's report).
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import time
from dataclasses import dataclass, field

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from controlplane.api.kinds import KINDS
from controlplane.client import Client, Informer
from controlplane.client import errors

log = logging.getLogger(__name__)

LEASE_NAMESPACE = "kube-node-lease"


@dataclass
class HollowSpec:
    """What a hollow node reports about itself."""
    cpu: str = "4"
    memory: str = "32Gi"
    pods: str = "110"
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[dict] = field(default_factory=list)


class HollowNode:
    def __init__(self, client: Client, name: str, spec: HollowSpec, *, lease_seconds: int = 40):
        self.client = client
        self.name = name
        self.spec = spec
        self.lease_seconds = lease_seconds
        self._lease: Message | None = None

    def node(self) -> Message:
        resources = {"cpu": self.spec.cpu, "memory": self.spec.memory, "pods": self.spec.pods}
        node = KINDS["Node"].new(
            metadata={"name": self.name, "labels": {"kubernetes.io/hostname": self.name,
                                                    "kubernetes.io/os": "linux", **self.spec.labels}},
            spec={"taints": self.spec.taints},
            status={"capacity": resources, "allocatable": resources,
                    "addresses": [{"type": "Hostname", "address": self.name}],
                    "node_info": {"kubelet_version": "hollow", "operating_system": "linux"}})
        stamp = _now()
        node.status.conditions.add(type="Ready", status="True", reason="KubeletReady",
                                   message="hollow node is posting ready status",
                                   last_heartbeat_time=stamp, last_transition_time=stamp)
        return node

    async def register(self) -> None:
        """Create the Node, or take over one of this name, as the kubelet does."""
        nodes = self.client.resource("Node")
        wanted = self.node()
        try:
            await nodes.create(wanted)
        except errors.AlreadyExists:
            existing = await nodes.get(self.name)
            existing.metadata.labels.update(wanted.metadata.labels)
            existing.status.CopyFrom(wanted.status)
            await nodes.update_status(await nodes.update(existing))
        await self.heartbeat()

    async def heartbeat(self) -> None:
        """Renew the Lease (one write, from the copy kept since the last one); create it if missing."""
        leases = self.client.resource("Lease")
        if self._lease is None:
            lease = KINDS["Lease"].new(metadata={"name": self.name, "namespace": LEASE_NAMESPACE},
                                       spec={"holder_identity": self.name,
                                             "lease_duration_seconds": self.lease_seconds})
            lease.spec.acquire_time.CopyFrom(_now())
            lease.spec.renew_time.CopyFrom(_now())
            try:
                self._lease = await leases.create(lease)
                return
            except errors.AlreadyExists:
                self._lease = await leases.get(self.name, namespace=LEASE_NAMESPACE)
        self._lease.spec.renew_time.CopyFrom(_now())
        try:
            self._lease = await leases.update(self._lease)
        except (errors.Conflict, errors.NotFound):
            self._lease = None   # changed or removed elsewhere: start again next time
            raise


class HollowCluster:
    """Many hollow nodes in this process: `async with HollowCluster(client, 100) as cluster: ...`."""

    """`run_pods`: the in-memory runtime (pods bound here turn Running, graceful deletions are
    finished); without it pods are not even watched. `heartbeat_seconds` 0: register only, no
    Lease renewals (Kubernetes' scheduler_perf has no kubelets at all)."""

    def __init__(self, client: Client, count: int, *, prefix: str = "hollow", spec: HollowSpec | None = None,
                 zones: int = 0, heartbeat_seconds: float = 10.0, run_pods: bool = True, concurrency: int = 64):
        self.client = client
        base = spec or HollowSpec()
        self.nodes = []
        for i in range(count):
            labels = dict(base.labels)
            if zones:
                labels["topology.kubernetes.io/zone"] = f"zone-{i % zones}"
            self.nodes.append(HollowNode(client, f"{prefix}-{i}", HollowSpec(
                base.cpu, base.memory, base.pods, labels, list(base.taints))))
        self.heartbeat_seconds = heartbeat_seconds
        self.run_pods = run_pods
        self.heartbeats = 0
        self._index = {n.name: i for i, n in enumerate(self.nodes)}
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task] = set()
        self._pods: Informer | None = None
        self._nodes: Informer | None = None
        self._pod_ips: dict[str, int] = {}
        self._finishing: set[tuple[str, str]] = set()

    async def __aenter__(self) -> "HollowCluster":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def start(self) -> None:
        await asyncio.gather(*(self._limited(node.register) for node in self.nodes))
        if self.heartbeat_seconds > 0:
            self._spawn(self._heartbeat_loop())
        self._nodes = Informer(self.client.resource("Node"))
        self._nodes.add_handler(on_delete=self._on_node_deleted)
        self._nodes.start()
        await self._nodes.wait_synced(60)
        if not self.run_pods:
            return
        self._pods = Informer(self.client.resource("Pod"), field_selector="spec.nodeName!=")
        self._pods.add_handler(on_add=self._on_pod, on_update=lambda old, new: self._on_pod(new))
        self._pods.start()
        await self._pods.wait_synced(60)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for informer in (self._pods, self._nodes):
            if informer is not None:
                await informer.stop()

    async def _limited(self, call, *args):
        """call(*args), at most `concurrency` at a time (the coroutine is made only once admitted)."""
        async with self._slots:
            return await call(*args)

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _heartbeat_loop(self) -> None:
        """Renew every node's lease once per period, spread evenly over it (one task, not one per node)."""
        nodes = list(self.nodes)
        random.shuffle(nodes)
        gap = self.heartbeat_seconds / max(len(nodes), 1)
        while True:
            started = time.monotonic()
            for i, node in enumerate(nodes):
                delay = started + i * gap - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                self._spawn(self._limited(self._beat, node))
            await asyncio.sleep(max(started + self.heartbeat_seconds - time.monotonic(), 0))

    async def _beat(self, node: HollowNode) -> None:
        try:
            await node.heartbeat()
            self.heartbeats += 1
        except errors.ApiError as e:
            log.info("hollow node %s: heartbeat failed: %s", node.name, e)

    def _on_node_deleted(self, deleted: Message) -> None:
        """A kubelet whose Node is deleted registers it again."""
        index = self._index.get(deleted.metadata.name)
        if index is not None:
            self._spawn(self._limited(self._register_again, self.nodes[index]))

    async def _register_again(self, node: HollowNode) -> None:
        try:
            await node.register()
        except errors.ApiError as e:
            log.info("hollow node %s: registering again failed: %s", node.name, e)

    # -- the in-memory runtime

    def _on_pod(self, pod: Message) -> None:
        if pod.spec.node_name not in self._index:
            return
        key = (pod.metadata.namespace, pod.metadata.name)
        if pod.metadata.HasField("deletion_timestamp"):
            if key not in self._finishing:
                self._finishing.add(key)
                self._spawn(self._finish(pod))
        elif pod.status.phase == "Pending":
            self._spawn(self._limited(self._run, pod))

    async def _run(self, pod: Message) -> None:
        running = type(pod)()
        running.CopyFrom(pod)
        stamp = _now()
        status = running.status
        status.phase = "Running"
        status.pod_ip = self._pod_ip(pod.spec.node_name)
        status.host_ip = "10.255.255.254"
        status.start_time.CopyFrom(stamp)
        for kind in ("Initialized", "ContainersReady", "Ready"):
            status.conditions.add(type=kind, status="True", last_transition_time=stamp)
        for container in pod.spec.containers:
            status.container_statuses.add(name=container.name, image=container.image, ready=True,
                                          started=True, state={"running": {"started_at": stamp}})
        try:
            await self.client.resource("Pod").update_status(running)
        except (errors.Conflict, errors.NotFound):
            pass   # changed or gone meanwhile; a later event brings it back if it still matters

    async def _finish(self, pod: Message) -> None:
        """Containers of a hollow pod stop at once: finish the graceful deletion."""
        try:
            await self.client.resource("Pod").delete(pod.metadata.name, namespace=pod.metadata.namespace,
                                                     grace_period_seconds=0, uid=pod.metadata.uid)
        except (errors.NotFound, errors.Conflict):
            pass
        finally:
            self._finishing.discard((pod.metadata.namespace, pod.metadata.name))

    def _pod_ip(self, node: str) -> str:
        index = self._index[node]
        count = self._pod_ips[node] = self._pod_ips.get(node, 0) + 1
        return str(ipaddress.ip_address("10.0.0.0") + (index % 65536) * 256 + count % 254 + 1)


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp
