"""The `default/kubernetes` Service: how a pod finds the API server.

Kubernetes' master service and its lease-based endpoint reconciler, in small.
Every API server keeps, in the store through its own registries:

    Service   default/kubernetes   clusterIP: the first address of the service
                                   CIDR (10.96.0.1), port 443 "https", no selector
    Endpoints default/kubernetes   one address per live API server (its
                                   advertised address and port)
    Lease     kube-system/apiserver-<hash of address:port>
                                   renewed every interval; holderIdentity is
                                   "address:port", label apiserver.kubernetes.io/identity

Each server renews its own Lease on a timer and writes the Endpoints from the
Leases that have not expired, so several servers give several addresses and a
server that dies without stopping drops out once its Lease expires (any
server then deletes the Lease). A server that stops cleanly deletes its Lease
and takes its address out at once. A change to the Service or Endpoints wakes
the reconciler through the watch cache, so a deleted or altered Service is put
back within moments, not only at the next interval. Decisions are made from
the watch caches; every write is conditional, and a lost race only means
another round.
"""
import asyncio
import hashlib
import ipaddress
import logging
import math
import time

import grpc
from google.protobuf.message import Message

from controlplane.api.kinds import KINDS
from controlplane.api.v1 import core_pb2
from controlplane.apiserver import errors
from controlplane.apiserver.registry import Registry, now_timestamp
from controlplane.apiserver.watchcache import WatchCache, WatchClosed
from controlplane.store import StoreError

log = logging.getLogger(__name__)

NAMESPACE, NAME = "default", "kubernetes"
LEASE_NAMESPACE = "kube-system"
IDENTITY_LABEL = "apiserver.kubernetes.io/identity"
IDENTITY = "kube-apiserver"
PORT_NAME, SERVICE_PORT, PROTOCOL = "https", 443, "TCP"
LABELS = {"component": "apiserver", "provider": "kubernetes"}
CLUSTER_DOMAIN = "cluster.local"
RETRY_SECONDS = 1.0   # after a failed round (say, the ClusterIP of a just-deleted Service not yet freed)
_IGNORED = (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.ABORTED, grpc.StatusCode.NOT_FOUND)


def service_ip(service_cidr: str) -> str:
    """The Service's ClusterIP: the first address of the service CIDR, as Kubernetes takes it."""
    return str(ipaddress.ip_network(service_cidr).network_address + 1)


def in_cluster_names(cluster_ip: str) -> list[str]:
    """Names and address a pod reaches the API server by, for the serving certificate."""
    return [NAME, f"{NAME}.{NAMESPACE}", f"{NAME}.{NAMESPACE}.svc", f"{NAME}.{NAMESPACE}.svc.{CLUSTER_DOMAIN}",
            cluster_ip]


def host_port(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _parse_host_port(text: str) -> tuple[str, int] | None:
    host, _, port = text.rpartition(":")
    try:
        return str(ipaddress.ip_address(host.strip("[]"))), int(port)
    except ValueError:
        return None


def lease_name(endpoint: str) -> str:
    return "apiserver-" + hashlib.sha256(endpoint.encode()).hexdigest()[:16]


def subsets(endpoints: set[tuple[str, int]]) -> list[Message]:
    """Endpoints subsets: one per port (API servers normally share one), addresses sorted."""
    by_port: dict[int, list[str]] = {}
    for address, port in endpoints:
        by_port.setdefault(port, []).append(address)
    return [core_pb2.EndpointSubset(addresses=[{"ip": a} for a in sorted(addresses, key=ipaddress.ip_address)],
                                    ports=[{"name": PORT_NAME, "port": port, "protocol": PROTOCOL}])
            for port, addresses in sorted(by_port.items())]


def _is_ours(obj: Message) -> bool:
    return obj.metadata.name == NAME and obj.metadata.namespace == NAMESPACE


def _is_identity(lease: Message) -> bool:
    return lease.metadata.namespace == LEASE_NAMESPACE and lease.metadata.labels.get(IDENTITY_LABEL) == IDENTITY


class KubernetesService:
    """Keeps default/kubernetes and this server's Lease current (see the module docstring).

    `address` "" means this server advertises nothing (no route to tell
    pods about): it still keeps the Service and the others' Endpoints.
    """

    def __init__(self, registries: dict[str, Registry], caches: dict[str, WatchCache], *,
                 service_cidr: str, address: str, port: int, interval: float = 10.0) -> None:
        self._registries = registries
        self._caches = caches
        self.cluster_ip = service_ip(service_cidr)
        self.endpoint = host_port(address, port) if address else ""
        self._port = port
        self.interval = interval
        self.lease_seconds = max(1, math.ceil(3 * interval))
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    # -- lifecycle

    async def start(self) -> None:
        """One round now (the Service exists once the server serves), then follow changes and the timer."""
        done = await self._round(renew=True)
        self._tasks = [asyncio.create_task(self._follow(kind, match), name=f"kubernetes-service-{kind}")
                       for kind, match in (("Service", _is_ours), ("Endpoints", _is_ours), ("Lease", _is_identity))]
        self._tasks.append(asyncio.create_task(self._run(failed=not done), name="kubernetes-service"))

    async def stop(self) -> None:
        """Stop reconciling; take this server's address out (best effort: a dead store must not block)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if not self.endpoint:
            return
        try:
            await asyncio.wait_for(self._leave(), 5)
        except (errors.ApiError, StoreError, OSError, asyncio.TimeoutError) as e:
            log.warning("kubernetes service: leaving: %s", e)

    async def _leave(self) -> None:
        try:
            await self._registries["Lease"].delete(LEASE_NAMESPACE, lease_name(self.endpoint))
        except errors.ApiError as e:
            if e.code != grpc.StatusCode.NOT_FOUND:
                raise
        for _ in range(5):
            if await self._ensure_endpoints(leaving=True):
                return
            await asyncio.sleep(0.1)   # another server wrote meanwhile: read again

    async def _run(self, *, failed: bool) -> None:
        """A round on every wake-up, renewing the Lease every interval; a failed round is retried soon."""
        renew_at = time.monotonic() + self.interval
        while True:
            wait = renew_at - time.monotonic()
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.0, min(wait, RETRY_SECONDS) if failed else wait))
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            renew = time.monotonic() >= renew_at
            if renew:
                renew_at = time.monotonic() + self.interval
            failed = not await self._round(renew=renew)

    async def _round(self, *, renew: bool) -> bool:
        try:
            await self.reconcile(renew=renew)
        except errors.ApiError as e:
            if e.code in _IGNORED:   # a race lost to another writer: its change wakes us again
                return True
            log.warning("kubernetes service: %s", e.message)
            return False
        except Exception as e:   # a store outage
            log.warning("kubernetes service: %s", e)
            return False
        return True

    async def _follow(self, kind: str, match) -> None:
        """Wake the reconciler whenever an object of this kind that `match`es changes."""
        cache = self._caches[kind]
        while True:
            watcher = cache.watch(resource_version=cache.revision, bookmarks=False, match=match)
            try:
                async for _ in watcher.events():
                    self._wake.set()
            except WatchClosed:   # the cache reloaded: whatever changed meanwhile needs a look
                self._wake.set()
                await asyncio.sleep(0.1)

    # -- one round

    async def reconcile(self, *, renew: bool = True) -> None:
        if renew and self.endpoint:
            await self._renew()
        await self._ensure_service()
        await self._ensure_endpoints(leaving=False)
        if renew:
            await self._forget_expired()

    def _cached(self, kind: str, namespace: str, name: str) -> Message | None:
        found = self._caches[kind].get(KINDS[kind].key(namespace, name))
        return found.obj if found is not None else None

    async def _renew(self) -> None:
        name = lease_name(self.endpoint)
        lease = KINDS["Lease"].new(metadata={"name": name, "namespace": LEASE_NAMESPACE,
                                             "labels": {IDENTITY_LABEL: IDENTITY}},
                                   spec={"holder_identity": self.endpoint,
                                         "lease_duration_seconds": self.lease_seconds})
        lease.spec.renew_time.CopyFrom(now_timestamp())
        registry = self._registries["Lease"]
        current = self._cached("Lease", LEASE_NAMESPACE, name)
        if current is not None:
            lease.spec.acquire_time.CopyFrom(current.spec.acquire_time)
            await registry.update(lease)
            return
        lease.spec.acquire_time.CopyFrom(lease.spec.renew_time)
        try:
            await registry.create(lease)
        except errors.ApiError as e:
            if e.code != grpc.StatusCode.ALREADY_EXISTS:   # made by our previous life: the cache lags
                raise
            await registry.update(lease)

    def _leases(self) -> list[Message]:
        return [c.obj for c in self._caches["Lease"].list(namespace=LEASE_NAMESPACE, match=_is_identity)]

    @staticmethod
    def _expired(lease: Message, now: float) -> bool:
        return lease.spec.renew_time.seconds + lease.spec.lease_duration_seconds < now

    def live_endpoints(self, *, leaving: bool = False) -> set[tuple[str, int]]:
        now = time.time()
        found = {lease.spec.holder_identity for lease in self._leases() if not self._expired(lease, now)}
        found.discard(self.endpoint)
        if self.endpoint and not leaving:
            found.add(self.endpoint)
        return {parsed for parsed in map(_parse_host_port, found) if parsed is not None}

    def desired_service(self) -> Message:
        return KINDS["Service"].new(
            metadata={"name": NAME, "namespace": NAMESPACE, "labels": LABELS},
            spec={"type": "ClusterIP", "cluster_ip": self.cluster_ip, "session_affinity": "None",
                  "ports": [{"name": PORT_NAME, "port": SERVICE_PORT, "protocol": PROTOCOL,
                             "target_port": {"number_value": self._port}}]})

    async def _ensure_service(self) -> None:
        registry = self._registries["Service"]
        current = self._cached("Service", NAMESPACE, NAME)
        if current is None:
            await registry.create(self.desired_service())
            log.info("created Service %s/%s (%s)", NAMESPACE, NAME, self.cluster_ip)
            return
        if current.spec.cluster_ip != self.cluster_ip:
            # Only a delete can change a ClusterIP; the next round creates it right.
            log.warning("Service %s/%s has clusterIP %s, not %s: replacing it",
                        NAMESPACE, NAME, current.spec.cluster_ip, self.cluster_ip)
            await registry.delete(NAMESPACE, NAME, precondition_uid=current.metadata.uid)
            return
        repaired = self._repaired(current)
        if repaired is not None:
            log.warning("Service %s/%s was changed: putting it back", NAMESPACE, NAME)
            await registry.update(repaired)

    def _repaired(self, current: Message) -> Message | None:
        """The Service with what makes it the API's entry point put back; None if nothing is off."""
        spec = current.spec
        live_ports = {port for _, port in self.live_endpoints()}
        ports = [(p.name, p.port, p.protocol or PROTOCOL) for p in spec.ports]
        target = spec.ports[0].target_port.number_value if spec.ports else 0
        if (ports == [(PORT_NAME, SERVICE_PORT, PROTOCOL)] and not spec.selector and spec.type == "ClusterIP"
                and (target in live_ports or not live_ports)):
            return None
        wanted = self.desired_service()
        repaired = type(current)()
        repaired.CopyFrom(current)
        repaired.spec.selector.clear()
        repaired.spec.type = "ClusterIP"
        del repaired.spec.ports[:]
        repaired.spec.ports.extend(wanted.spec.ports)
        return repaired

    async def _ensure_endpoints(self, *, leaving: bool) -> bool:
        """Write the Endpoints if they differ from the live servers; False if another writer won.

        Leaving, read them from the store: the cache may not show this server's own last write yet.
        """
        wanted = subsets(self.live_endpoints(leaving=leaving))
        registry = self._registries["Endpoints"]
        try:
            current = await registry.get(NAMESPACE, NAME) if leaving else self._cached("Endpoints", NAMESPACE, NAME)
        except errors.ApiError as e:
            if e.code != grpc.StatusCode.NOT_FOUND:
                raise
            current = None
        try:
            if current is None:
                await registry.create(KINDS["Endpoints"].new(
                    metadata={"name": NAME, "namespace": NAMESPACE, "labels": LABELS}, subsets=wanted))
            elif list(current.subsets) != wanted:
                updated = type(current)()
                updated.CopyFrom(current)
                del updated.subsets[:]
                updated.subsets.extend(wanted)
                await registry.update(updated)   # conditional: it carries the cached resourceVersion
        except errors.ApiError as e:
            if e.code not in _IGNORED:
                raise
            return False
        return True

    async def _forget_expired(self) -> None:
        """Delete the Leases of servers gone without stopping (any live server may; the first wins)."""
        now = time.time()
        for lease in self._leases():
            if self._expired(lease, now):
                try:
                    await self._registries["Lease"].delete(
                        LEASE_NAMESPACE, lease.metadata.name,
                        precondition_resource_version=lease.metadata.resource_version)
                except errors.ApiError as e:
                    if e.code not in _IGNORED:
                        raise
