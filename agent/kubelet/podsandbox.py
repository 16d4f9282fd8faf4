"""One pod's sandbox: making a new one, and knowing whether a running one is wired into the pod network.

On a node whose agent wires pods itself (agent/network/), a sandbox gets its pod IP before it exists
(from the node's range, carried in its label), is created with network_mode=none, and once started has
a veth pair put into its network namespace, as CNI's bridge plugin does. A running sandbox whose pair is
missing (the agent killed, or Docker's answer to the start lost, between start and wiring) must never get
the pod's containers: `unwired` names it, and the plan replaces it like a dead one.
"""
import asyncio
from dataclasses import replace
from typing import Protocol

from google.protobuf.message import Message

from agent.kubelet import podspec
from agent.kubelet.pleg import ContainerCache
from agent.runtime import Runtime, labels
from agent.runtime.errors import RuntimeFailure
from agent.runtime.types import ContainerStatus, Kind, State


class SandboxNetwork(Protocol):
    """The pod network as the kubelet uses it to wire sandboxes itself (agent/network/controller.py).
    All but wires_pods block: they run in worker threads."""

    def wires_pods(self) -> bool: ...
    def allocate(self, uid: str) -> str: ...
    def attach(self, *, pid: int, uid: str, attempt: int, address: str) -> None: ...
    def attached(self, *, uid: str, attempt: int) -> bool: ...
    def release(self, uid: str) -> list[str]: ...


class PodSandbox:
    """Makes the sandboxes of one pod (its uid) and remembers which running ones are known to be wired."""

    def __init__(self, *, uid: str, runtime: Runtime, cache: ContainerCache, network: SandboxNetwork | None,
                 dns: podspec.DnsSettings) -> None:
        self.uid = uid
        self._runtime = runtime
        self._cache = cache
        self._network = network
        self._dns = dns
        self._wired: set[str] = set()   # sandboxes known to be wired into the pod network

    async def unwired(self, snapshot: tuple[ContainerStatus, ...]) -> frozenset[str]:
        """The running sandboxes made for the agent to wire (their label carries the pod IP) that have no
        pair on the pod bridge. Each is looked at once: one found wired stays so while it runs."""
        network = self._network
        if network is None:
            return frozenset()
        self._wired.intersection_update(s.id for s in snapshot if s.kind is Kind.SANDBOX)   # only live ones
        unwired = set()
        for s in snapshot:
            if (s.kind is Kind.SANDBOX and s.state is State.RUNNING and labels.POD_IP in s.labels
                    and s.id not in self._wired):
                if await asyncio.to_thread(network.attached, uid=self.uid, attempt=s.attempt):
                    self._wired.add(s.id)
                else:
                    unwired.add(s.id)
        return frozenset(unwired)

    async def create(self, pod: Message, *, attempt: int) -> ContainerStatus | None:
        """Create, start, wire the sandbox of this attempt and give it the pod's resolv.conf; the sandbox as
        inspected after its start (None if Docker no longer knows it). Raises RuntimeFailure or OSError."""
        config = podspec.sandbox_config(pod, attempt=attempt, dns=self._dns)
        network = self._network
        wired = network is not None and network.wires_pods() and not config.host_network and not config.ports
        if wired:   # an address before the sandbox exists: its label carries it (the pod IP)
            config = replace(config, ip=await asyncio.to_thread(network.allocate, self.uid))
        sandbox_id = await self._runtime.sandboxes.create(config)
        with self._cache.operating(sandbox_id):
            try:
                await self._runtime.containers.start(sandbox_id)
            finally:
                sandbox = await self._cache.inspect(sandbox_id)
            if sandbox is not None and wired:
                try:
                    await asyncio.to_thread(network.attach, pid=sandbox.pid, uid=self.uid, attempt=attempt,
                                            address=config.ip)
                    self._wired.add(sandbox_id)
                except Exception as e:   # an unwired sandbox must never get the pod's containers
                    await self._cache.remove(sandbox_id)
                    raise RuntimeFailure(f"wiring the sandbox into the pod network: {e}") from e
            if sandbox is not None and config.dns and config.dns.nameservers and not config.host_network:
                await self._runtime.sandboxes.write_resolv_conf(sandbox, config.dns)
        return sandbox

    async def release(self) -> None:
        """The pod is gone: give its address back to the node's range."""
        if self._network is not None:
            await asyncio.to_thread(self._network.release, self.uid)
