"""Hollow nodes: a TEST AND BENCHMARK TOOL that runs many real kubelets in one process.

Kubemark's idea. Each hollow node is the kubelet of agent/kubelet (node
registration, Lease heartbeats, node status, pod workers, probes, the status
manager, Events) over HollowRuntime (agent/runtime/hollow.py), a test double
of Docker whose containers are records in memory. What the control plane sees
from a hollow node is what a real agent sends it; only Docker is missing.

So that thousands fit in one process, the nodes share what a real agent has
alone: one client (one gRPC channel), one pod informer and one Node informer,
each kubelet seeing its own node's objects through a view of them (`_Router`).
Their facts (capacity, labels, zones, taints) are given, not read from the
host; they serve no agent endpoint (logs, exec); secrets are projected onto
plain disk under a temporary directory, not tmpfs.

    async with HollowNodes(client, 3, shape=NodeShape(cpu="8"), zones=2) as nodes:
        ...
        await nodes.stop_node("hollow-0")    # its agent dies: no heartbeats, its pods left as they are
        await nodes.start_node("hollow-0")   # a new agent: adopts the containers, reports Ready again

What pods do is up to `program`, which picks each container's Program: run
until killed (the default), exit with a code after a while, start slowly,
answer exec probes. Use exec probes only on hollow nodes: an httpGet or
tcpSocket probe would connect to a made-up pod address (198.19.x.y, RFC
2544's benchmarking range). With `run_pods=False` a hollow node only
registers and heartbeats (nothing watches pods, as in scheduler_perf).
"""
from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf.message import Message

from agent.kubelet.config import KubeletConfig
from agent.kubelet.kubelet import Kubelet
from agent.kubelet.node import NodeStatusReporter
from agent.kubelet.sources import Sources
from agent.runtime.hollow import HollowRuntime, Program, pod_addresses, run_forever
from agent.runtime.types import ContainerConfig
from controlplane.client import Client, Informer

ZONE_LABEL = "topology.kubernetes.io/zone"
NO_HEARTBEATS = 10.0 ** 9   # a heartbeat period that never comes: register (and make the Lease) only
STARTING_AT_ONCE = 64       # nodes registering at the same time


@dataclass
class NodeShape:
    """What a hollow node reports about itself. Taints as the kubelet's flag takes them: key=value:Effect."""
    cpu: str = "4"
    memory: str = "32Gi"
    pods: int = 110
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[str, ...] = ()


class HollowFacts:
    """The node facts of a hollow node (agent.kubelet.nodeinfo.NodeFacts): its shape, no pressure."""

    def __init__(self, name: str, shape: NodeShape) -> None:
        self._name = name
        self._capacity = {"cpu": shape.cpu, "memory": shape.memory, "pods": str(shape.pods)}

    def capacity(self) -> dict[str, str]:
        return dict(self._capacity)

    def pressure(self) -> dict[str, bool]:
        return {"MemoryPressure": False, "DiskPressure": False, "PIDPressure": False}

    def system_info(self, runtime_version: str, kubelet_version: str) -> dict[str, str]:
        machine = hashlib.md5(self._name.encode()).hexdigest()
        return {"machine_id": machine, "boot_id": machine, "system_uuid": machine, "kernel_version": "hollow",
                "os_image": "hollow node", "container_runtime_version": f"docker://{runtime_version}",
                "kubelet_version": kubelet_version, "operating_system": "linux", "architecture": "amd64"}


class HollowNodes:
    """Hollow nodes named `nodes` (or hollow-0 ... hollow-<n-1> for a number), run until stop().

    `heartbeat_seconds` 0: register only, no Lease renewals. `program` picks
    what each container does (agent/runtime/hollow.py).
    """

    def __init__(self, client: Client, nodes: int | Sequence[str], *, shape: NodeShape | None = None,
                 zones: int = 0, heartbeat_seconds: float = 10.0, run_pods: bool = True,
                 program: Callable[[ContainerConfig], Program] = run_forever, root: Path | None = None) -> None:
        self.client = client
        self.names = [f"hollow-{i}" for i in range(nodes)] if isinstance(nodes, int) else list(nodes)
        self.run_pods = run_pods
        self._shape = shape or NodeShape()
        self._zones = zones
        self._heartbeat = heartbeat_seconds or NO_HEARTBEATS
        self._root = root
        self._own_root = root is None
        addresses = pod_addresses()   # one pool: pod IPs are unique across the nodes
        self.runtimes = {name: HollowRuntime(program=program, addresses=addresses) for name in self.names}
        self._nodes: _Router | None = None
        self._pods: _Router | None = None
        self._kubelets: dict[str, Kubelet] = {}
        self._reporters: dict[str, tuple[NodeStatusReporter, asyncio.Task]] = {}

    async def __aenter__(self) -> HollowNodes:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def heartbeats(self) -> int:
        """Lease renewals so far, over every node."""
        return sum(reporter.renewals for reporter in self._all_reporters())

    async def start(self) -> None:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="hollow-nodes-"))
        self._nodes = _Router(Informer(self.client.resource("Node")), lambda node: node.metadata.name)
        routers = [self._nodes]
        if self.run_pods:
            self._pods = _Router(Informer(self.client.resource("Pod"), field_selector="spec.nodeName!="),
                                 lambda pod: pod.spec.node_name)
            routers.append(self._pods)
        for router in routers:
            router.informer.start()
        for router in routers:
            await router.informer.wait_synced(60)
        slots = asyncio.Semaphore(STARTING_AT_ONCE)

        async def start(name: str) -> None:
            async with slots:
                await self.start_node(name)
        await asyncio.gather(*(start(name) for name in self.names))

    async def stop(self) -> None:
        await asyncio.gather(*(self.stop_node(name) for name in self.names))
        for router in (self._pods, self._nodes):
            if router is not None:
                await router.informer.stop()
        for runtime in self.runtimes.values():
            runtime.close()
        if self._own_root and self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)

    async def start_node(self, name: str) -> None:
        """Start the node's agent (again, after stop_node: it adopts what its runtime still runs)."""
        index = self.names.index(name)
        labels = {**self._shape.labels, **({ZONE_LABEL: f"zone-{index % self._zones}"} if self._zones else {})}
        config = KubeletConfig(node_name=name, root_dir=self._root / name, node_labels=labels,
                               register_with_taints=tuple(self._shape.taints), max_pods=self._shape.pods,
                               listen="", heartbeat_seconds=self._heartbeat)
        host_ip = str(ipaddress.ip_address("198.18.0.1") + index)
        facts = HollowFacts(name, self._shape)
        runtime = self.runtimes[name]
        if self.run_pods:
            kubelet = Kubelet(config, runtime, self.client, host_ip=host_ip, facts=facts, tmpfs=False,
                              sources=Sources(pods=self._pods.view(name), node=self._nodes.view(name)))
            self._kubelets[name] = kubelet
            await kubelet.start()
            reporter = kubelet.node
        else:
            reporter = NodeStatusReporter(self.client, config, runtime, node_source=self._nodes.view(name),
                                          facts=facts, host_ip=host_ip)
            self._reporters[name] = (reporter, asyncio.create_task(reporter.run(), name=f"hollow-{name}"))
        await asyncio.wait_for(reporter.registered.wait(), 60)

    async def stop_node(self, name: str) -> None:
        """The node's agent stops, as if it died: no more heartbeats; its containers keep running."""
        kubelet = self._kubelets.pop(name, None)
        if kubelet is not None:
            await kubelet.stop()
        found = self._reporters.pop(name, None)
        if found is not None:
            found[1].cancel()
            await asyncio.gather(found[1], return_exceptions=True)
            await self._nodes.view(name).stop()

    def _all_reporters(self) -> list[NodeStatusReporter]:
        return [k.node for k in self._kubelets.values()] + [r for r, _ in self._reporters.values()]


class _Router:
    """One informer shared by every hollow node; each event goes to the view of the node it concerns."""

    def __init__(self, informer: Informer, node_of: Callable[[Message], str]) -> None:
        self.informer = informer
        self.node_of = node_of
        self._views: dict[str, _View] = {}
        informer.add_index("node", lambda obj: [node_of(obj)])
        informer.add_handler(on_add=self._added, on_update=self._updated, on_delete=self._deleted)

    def view(self, node: str) -> _View:
        if node not in self._views:
            self._views[node] = _View(self, node)
        return self._views[node]

    def _handlers(self, obj: Message) -> list[tuple]:
        view = self._views.get(self.node_of(obj))
        return list(view.handlers) if view is not None else []

    def _added(self, obj: Message) -> None:
        for on_add, _, _ in self._handlers(obj):
            if on_add:
                on_add(obj)

    def _updated(self, old: Message, new: Message) -> None:
        for _, on_update, _ in self._handlers(new):
            if on_update:
                on_update(old, new)

    def _deleted(self, obj: Message) -> None:
        for _, _, on_delete in self._handlers(obj):
            if on_delete:
                on_delete(obj)


class _View:
    """One node's part of a shared informer, with the surface the kubelet uses (agent.kubelet.sources.Source)."""

    def __init__(self, router: _Router, node: str) -> None:
        self._router = router
        self.node = node
        self.handlers: list[tuple] = []

    def add_handler(self, *, on_add=None, on_update=None, on_delete=None) -> None:
        self.handlers.append((on_add, on_update, on_delete))
        if on_add:
            for obj in self.list():
                on_add(obj)

    def get(self, name: str, namespace: str = "") -> Message | None:
        obj = self._router.informer.get(name, namespace)
        return obj if obj is not None and self._router.node_of(obj) == self.node else None

    def list(self) -> list[Message]:
        return self._router.informer.by_index("node", self.node)

    def start(self) -> None:
        """Nothing: the hollow nodes run the shared informer."""

    async def wait_synced(self, timeout: float | None = None) -> None:
        await self._router.informer.wait_synced(timeout)

    async def stop(self) -> None:
        """This node's agent stopped: tell it nothing more."""
        self.handlers.clear()


__all__ = ["HollowNodes", "NodeShape", "Program"]
