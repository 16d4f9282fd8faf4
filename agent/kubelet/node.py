"""The Node object: registration, the heartbeat Lease, and the node's status.

Registration creates the Node (or takes over the one that exists with this
name) with its labels, taints, capacity, addresses and system info. Every
heartbeat period the node's Lease in kube-node-lease is renewed (the cheap
"I am alive" the node lifecycle controller watches) and its status is
written when anything in it changed, or once a minute anyway so that
lastHeartbeatTime stays fresh, as Kubernetes' kubelet does. A Node that was
deleted is registered again. Failures are retried with back-off; they never
touch the pods.
"""
import asyncio
import logging

from google.protobuf.message import Message

from agent.kubelet import nodeinfo
from agent.kubelet.config import KubeletConfig
from agent.kubelet.status import now, timestamp
from agent.runtime import Runtime
from agent.runtime.errors import RuntimeFailure
from controlplane import __version__
from controlplane.api.kinds import KINDS
from controlplane.api.wellknown import AGENT_CERT_ANNOTATION, NODE_LEASE_NAMESPACE
from controlplane.client import Client
from controlplane.client.errors import AlreadyExists, ApiError, NotFound

log = logging.getLogger(__name__)

STATUS_REFRESH = 60.0   # seconds: a status write at least this often even if nothing changed

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
    def __init__(self, client: Client, config: KubeletConfig, runtime: Runtime, *, host_ip: str,
                 port: int = 0, agent_cert_sha256: str = "") -> None:
        self._client = client
        self._config = config
        self._runtime = runtime
        self._host_ip = host_ip
        self.port = port                      # the agent endpoint's, published for the API server
        self._cert_pin = agent_cert_sha256
        self._last_written: Message | None = None
        self._last_write_at = 0.0
        self.registered = asyncio.Event()

    @property
    def name(self) -> str:
        return self._config.node_name

    async def run(self) -> None:
        """Register, then heartbeat forever; every failure is retried with back-off."""
        delay = 0.5
        while True:
            try:
                if not self.registered.is_set():
                    await self.register()
                await self.heartbeat()
                delay = 0.5
                await asyncio.sleep(self._config.heartbeat_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as e:   # the API server away, or a bug: say so and try again
                if isinstance(e, ApiError):
                    log.info("node %s: %s; retrying in %.1fs", self.name, e, delay)
                else:
                    log.exception("node %s: status update failed", self.name)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._config.heartbeat_seconds)

    async def register(self) -> None:
        nodes = self._client.resource("Node")
        node = await self._desired_node()
        try:
            created = await nodes.create(node)
        except AlreadyExists:
            existing = await nodes.get(self.name)
            existing.metadata.labels.update(node.metadata.labels)
            existing.metadata.annotations.update(node.metadata.annotations)
            if not existing.spec.taints:
                existing.spec.taints.extend(node.spec.taints)
            created = await nodes.update(existing)
        self._last_written = None
        self.registered.set()
        log.info("node %s registered", created.metadata.name)

    async def heartbeat(self) -> None:
        await self._renew_lease()
        try:
            node = await self._client.resource("Node").get(self.name)   # served from the watch cache
        except NotFound:
            self.registered.clear()   # deleted behind our back: register again
            raise
        status = await self._status()
        loop_time = asyncio.get_running_loop().time()
        unchanged = self._last_written is not None and \
            _without_heartbeats(self._last_written) == _without_heartbeats(status)
        if unchanged and loop_time - self._last_write_at < STATUS_REFRESH:
            return
        _keep_transition_times(node.status, status)
        node.status.CopyFrom(status)
        await self._client.resource("Node").update_status(node)
        self._last_written = status
        self._last_write_at = loop_time

    async def _renew_lease(self) -> None:
        leases = self._client.resource("Lease")
        try:
            lease = await leases.get(self.name, namespace=NODE_LEASE_NAMESPACE)
        except NotFound:
            lease = KINDS["Lease"].new(metadata={"name": self.name, "namespace": NODE_LEASE_NAMESPACE},
                                       spec={"holder_identity": self.name,
                                             "lease_duration_seconds": self._config.lease_duration_seconds})
            lease.spec.acquire_time.CopyFrom(_micro_now())
            lease.spec.renew_time.CopyFrom(_micro_now())
            await leases.create(lease)
            return
        lease.spec.holder_identity = self.name
        lease.spec.renew_time.CopyFrom(_micro_now())
        await leases.update(lease)

    async def _desired_node(self) -> Message:
        node = KINDS["Node"].new(metadata={"name": self.name, "labels": {
            "kubernetes.io/hostname": self.name, "kubernetes.io/os": "linux",
            "kubernetes.io/arch": nodeinfo.system_info("", "")["architecture"], **self._config.node_labels}})
        if self._cert_pin:
            node.metadata.annotations[AGENT_CERT_ANNOTATION] = self._cert_pin
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
        capacity = nodeinfo.capacity(self._config.root_dir, self._config.max_pods)
        status = KINDS["Node"].message().status
        status.capacity.update(capacity)
        status.allocatable.update(capacity)
        status.addresses.add(type="InternalIP", address=self._host_ip)
        status.addresses.add(type="Hostname", address=self.name)
        status.daemon_endpoints.kubelet_endpoint.port = self.port
        for key, value in nodeinfo.system_info(runtime_version, __version__).items():
            setattr(status.node_info, key, value)
        stamp = timestamp(now())
        verdicts = {**nodeinfo.pressure(self._config.root_dir), "Ready": runtime_ok}
        for kind in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure"):
            reason, message = _CONDITION_TEXT[(kind, verdicts[kind])]
            condition = status.conditions.add(type=kind, status="True" if verdicts[kind] else "False",
                                              reason=reason, message=message)
            condition.last_heartbeat_time.CopyFrom(stamp)
            condition.last_transition_time.CopyFrom(stamp)
        return status


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
