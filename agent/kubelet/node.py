"""The Node object: registration, the heartbeat Lease, and the node's status.

Registration creates the Node (or takes over the one that exists with this
name) with its labels, taints, capacity, addresses and system info. Every
heartbeat period the node's Lease in kube-node-lease is renewed (the cheap
"I am alive" the node lifecycle controller watches) and its status is
written when it differs from the API server's, or every STATUS_REFRESH
anyway so that lastHeartbeatTime stays fresh, as Kubernetes' kubelet does. A
Node that was deleted is registered again. Failures are retried with
back-off; they never touch the pods.
"""
import asyncio
import logging
import random

from google.protobuf.message import Message

from agent.kubelet import nodeinfo
from agent.kubelet.config import KubeletConfig
from agent.kubelet.localpath import storage_dir
from agent.kubelet.nodeinfo import NodeFacts
from agent.kubelet.sources import Source
from agent.kubelet.status import now, timestamp
from agent.runtime import Runtime
from agent.runtime.errors import RuntimeFailure
from controlplane import __version__
from controlplane.api.kinds import KINDS
from controlplane.api.wellknown import AGENT_CERT_ANNOTATION, LOCAL_PATH_DIR_ANNOTATION, NODE_LEASE_NAMESPACE
from controlplane.client import Client
from controlplane.client.errors import AlreadyExists, ApiError, Conflict, NotFound

log = logging.getLogger(__name__)

STATUS_REFRESH = 300.0   # seconds: a status write at least this often even if nothing changed (Kubernetes' 5 min)
JITTER = 0.04            # a wait between heartbeats is up to this much longer than the period (as Kubernetes')

_CONDITION_TEXT = {
    ("Ready", True): ("KubeletReady", "kubelet is posting ready status"),
    ("Ready", False): ("KubeletNotReady", "container runtime is down"),
    ("MemoryPressure", False): ("KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("MemoryPressure", True): ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
    ("DiskPressure", False): ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("DiskPressure", True): ("KubeletHasDiskPressure", "kubelet has disk pressure"),
    ("PIDPressure", False): ("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("PIDPressure", True): ("KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
}


class NodeStatusReporter:
    """Registers the Node, then renews its Lease and keeps its status current, forever.

    Each heartbeat costs the API server one write, the Lease renewal, made
    from the copy the last renewal returned (conditional on its
    resourceVersion; re-read only when someone else changed it). The Node is
    followed through `node_source` (an informer of this Node), so its status
    is compared with what the API server has, and written only when it
    differs (the node lifecycle controller marked it Unknown, a condition
    flipped) or STATUS_REFRESH has passed; a deleted Node is registered again
    at once. Heartbeats are spread out: the first wait is a random part of the
    period, later ones the period plus up to JITTER of it, so that nodes
    started together (thousands of hollow nodes, a rack powering up) do not
    renew in step.
    """

    def __init__(self, client: Client, config: KubeletConfig, runtime: Runtime, *, node_source: Source,
                 facts: NodeFacts, host_ip: str, port: int = 0, agent_cert_sha256: str = "") -> None:
        self._client = client
        self._config = config
        self._runtime = runtime
        self._source = node_source
        self._facts = facts
        self._host_ip = host_ip
        self.port = port                      # the agent endpoint's, published for the API server
        self._cert_pin = agent_cert_sha256
        self._node: Message | None = None     # the newest copy of our Node; None until (re-)registered
        self._lease: Message | None = None    # the Lease as the last renewal left it
        self._last_write_at = 0.0
        self._wake = asyncio.Event()
        self.registered = asyncio.Event()
        self.renewals = 0                     # Lease renewals so far (the hollow node benchmark counts them)

    @property
    def name(self) -> str:
        return self._config.node_name

    async def run(self) -> None:
        """Register, then heartbeat forever; every failure is retried with back-off."""
        self._source.add_handler(on_add=self._seen, on_update=lambda _old, new: self._seen(new),
                                 on_delete=self._deleted)
        delay = 0.5
        phase = random.random()   # the first wait is a random part of a period: nodes started together renew apart
        while True:
            try:
                if self._node is None:
                    await self.register()
                await self.heartbeat()
                delay = 0.5
                await self._sleep(self._config.heartbeat_seconds * (phase or 1 + JITTER * random.random()))
                phase = 0.0
            except asyncio.CancelledError:
                raise
            except Exception as e:   # the API server away, or a bug: say so and try again
                if isinstance(e, ApiError):
                    log.info("node %s: %s; retrying in %.1fs", self.name, e, delay)
                else:
                    log.exception("node %s: status update failed", self.name)
                await self._sleep(delay)
                delay = min(delay * 2, self._config.heartbeat_seconds)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the Node is deleted."""
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
        self._wake.clear()

    def _seen(self, node: Message) -> None:
        if self._node is not None and _revision(node) > _revision(self._node):
            self._node = node

    def _deleted(self, node: Message) -> None:
        if self._node is not None and _revision(self._node) <= _revision(node):   # not our newer registration
            log.info("node %s was deleted; registering it again", self.name)
            self._node = None
            self.registered.clear()
            self._wake.set()

    async def register(self) -> None:
        nodes = self._client.resource("Node")
        node = await self._desired_node()
        try:
            created = await nodes.create(node)
        except AlreadyExists:
            existing = await nodes.get(self.name)
            existing.metadata.labels.update(node.metadata.labels)
            existing.metadata.annotations.update(node.metadata.annotations)
            # Taints are registered once: a node may not change its own (NodeRestriction).
            created = await nodes.update(existing)
        self._node = created
        self._last_write_at = asyncio.get_running_loop().time()
        self.registered.set()
        log.info("node %s registered", created.metadata.name)

    async def heartbeat(self) -> None:
        await self._renew_lease()
        status = await self._status()
        if self._node is None:
            return    # deleted meanwhile: registered again next
        _keep_transition_times(self._node.status, status)
        now = asyncio.get_running_loop().time()
        if _without_heartbeats(self._node.status) == _without_heartbeats(status) and \
                now - self._last_write_at < STATUS_REFRESH:
            return
        nodes = self._client.resource("Node")
        for attempt in range(2):
            update = type(self._node)()
            update.CopyFrom(self._node)
            update.status.CopyFrom(status)
            try:
                self._node = await nodes.update_status(update)
                self._last_write_at = now
                return
            except Conflict:
                if attempt:
                    raise
                self._node = await nodes.get(self.name)   # changed behind us: once more on the new copy
                _keep_transition_times(self._node.status, status)
            except NotFound:
                self._node = None     # deleted behind our back: register again
                self.registered.clear()
                raise

    async def _renew_lease(self) -> None:
        leases = self._client.resource("Lease")
        if self._lease is None:
            try:
                self._lease = await leases.get(self.name, namespace=NODE_LEASE_NAMESPACE)
            except NotFound:
                lease = KINDS["Lease"].new(metadata={"name": self.name, "namespace": NODE_LEASE_NAMESPACE},
                                           spec={"holder_identity": self.name,
                                                 "lease_duration_seconds": self._config.lease_duration_seconds})
                lease.spec.acquire_time.CopyFrom(_micro_now())
                lease.spec.renew_time.CopyFrom(_micro_now())
                self._lease = await leases.create(lease)
                self.renewals += 1
                return
        self._lease.spec.holder_identity = self.name
        self._lease.spec.renew_time.CopyFrom(_micro_now())
        try:
            self._lease = await leases.update(self._lease)
        except (Conflict, NotFound):
            self._lease = None   # changed or removed by someone else: read it again next time
            raise
        self.renewals += 1

    async def _desired_node(self) -> Message:
        architecture = self._facts.system_info("", "")["architecture"]
        node = KINDS["Node"].new(metadata={"name": self.name, "labels": {
            "kubernetes.io/hostname": self.name, "kubernetes.io/os": "linux",
            "kubernetes.io/arch": architecture, **self._config.node_labels}})
        if self._cert_pin:
            node.metadata.annotations[AGENT_CERT_ANNOTATION] = self._cert_pin
        node.metadata.annotations[LOCAL_PATH_DIR_ANNOTATION] = str(storage_dir(self._config.root_dir))
        for taint in self._config.register_with_taints:
            node.spec.taints.add(**nodeinfo.parse_taint(taint))
        node.status.CopyFrom(await self._status())
        return node

    async def _status(self) -> Message:
        try:
            runtime_version = await self._runtime.version()
            runtime_ok = True
        except RuntimeFailure:
            runtime_version, runtime_ok = "unknown", False
        capacity = self._facts.capacity()
        status = KINDS["Node"].message().status
        status.capacity.update(capacity)
        status.allocatable.update(capacity)
        status.addresses.add(type="InternalIP", address=self._host_ip)
        status.addresses.add(type="Hostname", address=self.name)
        status.daemon_endpoints.kubelet_endpoint.port = self.port
        for key, value in self._facts.system_info(runtime_version, __version__).items():
            setattr(status.node_info, key, value)
        stamp = timestamp(now())
        verdicts = {**self._facts.pressure(), "Ready": runtime_ok}
        for kind in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure"):
            reason, message = _CONDITION_TEXT[(kind, verdicts[kind])]
            condition = status.conditions.add(type=kind, status="True" if verdicts[kind] else "False",
                                              reason=reason, message=message)
            condition.last_heartbeat_time.CopyFrom(stamp)
            condition.last_transition_time.CopyFrom(stamp)
        return status


def _revision(obj: Message) -> int:
    return int(obj.metadata.resource_version or 0)


def _micro_now():
    """Leases carry microsecond times (Kubernetes' MicroTime)."""
    moment = now()
    stamp = timestamp(moment)
    stamp.nanos = moment.microsecond * 1000
    return stamp


def _without_heartbeats(status: Message) -> Message:
    copy = type(status)()
    copy.CopyFrom(status)
    for condition in copy.conditions:
        condition.ClearField("last_heartbeat_time")
        condition.ClearField("last_transition_time")
    return copy


def _keep_transition_times(old: Message, new: Message) -> None:
    """A condition's lastTransitionTime moves only when its status does."""
    before = {c.type: c for c in old.conditions}
    for condition in new.conditions:
        previous = before.get(condition.type)
        if previous is not None and previous.status == condition.status and previous.HasField("last_transition_time"):
            condition.last_transition_time.CopyFrom(previous.last_transition_time)
