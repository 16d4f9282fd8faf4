"""Hollow nodes for controller tests and the benchmark: a kubelet's API side, no containers.

Controllers only ever see the API, so to test them a "node" needs to do
what a kubelet does *there*: register a Node, renew its Lease, and move its
pods through their statuses (Running and Ready with an IP; Succeeded or
Failed for run-to-completion pods; gone once a graceful deletion starts).
This does exactly that, in the test's event loop (the way kubemark's hollow
nodes do), and optionally binds unscheduled pods round-robin as a stand-in
scheduler. `stop_node` silences one node as if its agent died.
"""
import asyncio
import itertools
import ipaddress
import logging
from typing import Callable

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from controlplane.api.kinds import KINDS
from controlplane.client import Client, errors
from controlplane.client.informer import Informer, key_of

log = logging.getLogger(__name__)

NODE_LEASE_NAMESPACE = "kube-node-lease"

Outcome = Callable[[Message], str]  # pod -> "Running", "Unready" (running, never ready), "Succeeded", "Failed"


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    stamp.nanos = 0
    return stamp


def always_running(_pod: Message) -> str:
    return "Running"


class FakeNodes:
    def __init__(self, client: Client, names: list[str], *, bind: bool = True, heartbeat: float = 1.0,
                 outcome: Outcome = always_running, ready_delay: float = 0.0, workers: int = 8):
        self.client = client
        self.names = list(names)
        self.bind = bind
        self.heartbeat = heartbeat
        self.outcome = outcome
        self.ready_delay = ready_delay
        self.workers = workers
        self.alive = set(names)
        self.pods = Informer(client.resource("Pod"))
        self.nodes = Informer(client.resource("Node"))
        self._queue: asyncio.Queue = asyncio.Queue()
        self._queued: set = set()
        self._ready_at: dict[str, float] = {}   # pod uid -> when (loop time) it may turn ready
        self._tasks: list[asyncio.Task] = []
        self._next_node = itertools.cycle(self.names)
        self._ips = (str(ip) for ip in ipaddress.ip_network("10.200.0.0/16").hosts())

    async def start(self) -> "FakeNodes":
        nodes_api, leases_api = self.client.resource("Node"), self.client.resource("Lease")
        await asyncio.gather(*(self._register(name, nodes_api, leases_api) for name in self.names))
        self.pods.add_handler(on_add=self._enqueue, on_update=lambda _o, p: self._enqueue(p))
        self._tasks = [self.pods.start(), self.nodes.start(),
                       asyncio.create_task(self._heartbeats())]
        self._tasks += [asyncio.create_task(self._worker()) for _ in range(self.workers)]
        await self.pods.wait_synced(30)
        await self.nodes.wait_synced(30)
        return self

    async def stop(self) -> None:
        await self.pods.stop()
        await self.nodes.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc):
        await self.stop()

    def stop_node(self, name: str) -> None:
        """The node's agent is gone: no more heartbeats, its pods are left as they are."""
        self.alive.discard(name)

    async def start_node(self, name: str) -> None:
        """The agent is back: it posts Ready again and resumes its pods."""
        self.alive.add(name)
        await self._post_ready(name)
        for pod in self.pods.list():
            if pod.spec.node_name == name:
                if pod.status.phase == "Running":
                    self._ready_at[pod.metadata.uid] = 0.0   # report it ready again
                self._enqueue(pod)

    # -- node side

    async def _register(self, name: str, nodes_api, leases_api) -> None:
        node = KINDS["Node"].new(metadata={"name": name, "labels": {"kubernetes.io/hostname": name}})
        node.status.capacity.update({"cpu": "64", "memory": "256Gi", "pods": "250"})
        node.status.addresses.add(type="InternalIP", address=f"192.0.2.{len(self.alive) % 250 + 1}")
        ready = node.status.conditions.add(type="Ready", status="True", reason="KubeletReady",
                                           message="kubelet is posting ready status")
        ready.last_heartbeat_time.CopyFrom(_now())
        ready.last_transition_time.CopyFrom(_now())
        try:
            await nodes_api.create(node)
        except errors.AlreadyExists:
            pass
        await self._post_ready(name, node.status)
        lease = KINDS["Lease"].new(metadata={"name": name, "namespace": NODE_LEASE_NAMESPACE},
                                   spec={"holder_identity": name, "lease_duration_seconds": 40})
        lease.spec.renew_time.CopyFrom(_now())
        try:
            await leases_api.create(lease)
        except errors.AlreadyExists:
            pass

    async def _post_ready(self, name: str, status: Message | None = None) -> None:
        """Post Ready (and `status`, on registration), retrying over concurrent node updates."""
        nodes_api = self.client.resource("Node")
        for _ in range(10):
            node = await nodes_api.get(name)
            if status is not None:
                node.status.CopyFrom(status)
            for c in node.status.conditions:
                c.last_heartbeat_time.CopyFrom(_now())
                if c.type == "Ready" and c.status != "True":
                    c.status, c.reason, c.message = "True", "KubeletReady", "kubelet is posting ready status"
                    c.last_transition_time.CopyFrom(_now())
            try:
                await nodes_api.update_status(node)
                return
            except errors.Conflict:
                continue

    async def _heartbeats(self) -> None:
        leases_api = self.client.resource("Lease")
        while True:
            await asyncio.sleep(self.heartbeat)
            for name in list(self.alive):
                try:
                    lease = await leases_api.get(name, namespace=NODE_LEASE_NAMESPACE)
                    lease.spec.renew_time.GetCurrentTime()
                    await leases_api.update(lease)
                except errors.ApiError as e:
                    log.debug("heartbeat of %s: %s", name, e)

    # -- pod side

    def _enqueue(self, pod: Message) -> None:
        key = key_of(pod)
        if key not in self._queued:
            self._queued.add(key)
            self._queue.put_nowait(key)

    async def _worker(self) -> None:
        while True:
            key = await self._queue.get()
            self._queued.discard(key)
            pod = self.pods.get(key[1], key[0])
            if pod is None:
                continue
            try:
                await self._handle(pod)
            except errors.ApiError as e:
                log.debug("hollow kubelet, pod %s: %s", key, e)
                if not isinstance(e, errors.NotFound):
                    await asyncio.sleep(0.05)
                    self._enqueue(pod)

    def _schedulable(self) -> list[str]:
        out = []
        for name in self.names:
            node = self.nodes.get(name)
            if name in self.alive and (node is None or not any(
                    t.effect in ("NoSchedule", "NoExecute") for t in node.spec.taints)):
                out.append(name)
        return out

    async def _handle(self, pod: Message) -> None:
        pods_api = self.client.resource("Pod")
        meta, spec = pod.metadata, pod.spec
        if not spec.node_name:
            candidates = self._schedulable()
            if self.bind and candidates and not meta.HasField("deletion_timestamp"):
                node = next(n for n in self._next_node if n in candidates)
                await pods_api.bind(meta.name, node, namespace=meta.namespace)
            return
        if spec.node_name not in self.alive:
            return
        if meta.HasField("deletion_timestamp"):
            await pods_api.delete(meta.name, namespace=meta.namespace, grace_period_seconds=0, uid=meta.uid)
            return
        outcome = self.outcome(pod)
        loop = asyncio.get_running_loop()
        if pod.status.phase == "Pending":
            ready = outcome == "Running" and not self.ready_delay
            await pods_api.update_status(self._started(pod, outcome, ready=ready))
            if outcome == "Running" and self.ready_delay:
                self._ready_at[meta.uid] = loop.time() + self.ready_delay
                loop.call_later(self.ready_delay, self._enqueue, pod)
        elif meta.uid in self._ready_at and self._ready_at[meta.uid] <= loop.time():
            await pods_api.update_status(self._started(pod, outcome, ready=True))
            del self._ready_at[meta.uid]

    def _started(self, pod: Message, outcome: str, *, ready: bool) -> Message:
        new = type(pod)()
        new.CopyFrom(pod)
        status = new.status
        now = _now()
        status.phase = "Running" if outcome == "Unready" else outcome
        if not status.pod_ip:
            status.pod_ip = next(self._ips)
            status.pod_ips.add(ip=status.pod_ip)
            status.host_ip = "192.0.2.1"
            status.start_time.CopyFrom(now)
        running = status.phase == "Running"
        for kind in ("Initialized", "ContainersReady", "Ready"):
            c = next((c for c in status.conditions if c.type == kind), None) or status.conditions.add(type=kind)
            c.status = "True" if ready or kind == "Initialized" else "False"
            c.last_transition_time.CopyFrom(now)
        del status.container_statuses[:]
        for container in pod.spec.containers:
            cs = status.container_statuses.add(name=container.name, image=container.image, ready=ready)
            if running:
                cs.state.running.started_at.CopyFrom(now)
            else:
                cs.state.terminated.exit_code = 0 if status.phase == "Succeeded" else 1
                cs.state.terminated.reason = "Completed" if status.phase == "Succeeded" else "Error"
                cs.state.terminated.finished_at.CopyFrom(now)
        return new
