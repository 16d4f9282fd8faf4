"""Admission: checks and changes to an object between validation and the store.

Plugins see every create and update of the kinds they are attached to, and
are told when an object they admitted was not written or was deleted, so
anything they allocate (a ClusterIP, a NodePort) is given back.
"""
import grpc
from google.protobuf.message import Message

from controlplane.apiserver import errors
from controlplane.apiserver.allocator import AlreadyAllocated, Allocator, RangeFull, invalid_value


class AdmissionPlugin:
    """Base with no-op hooks; a plugin overrides what it needs."""

    async def admit_create(self, obj: Message) -> None:
        pass

    async def admit_update(self, new: Message, old: Message) -> None:
        pass

    async def commit_update(self, new: Message, old: Message) -> None:
        """The update was written: give back what `old` held and `new` does not."""

    async def release_update(self, new: Message, old: Message) -> None:
        """The update was not written: give back what admit_update took for `new`."""

    async def release(self, obj: Message) -> None:
        """The object was not written after all, or is gone: give back what it held."""


class NamespaceLifecycle(AdmissionPlugin):
    """No new objects in a namespace that does not exist or is being deleted.

    Asks the namespace watch cache first; only a namespace the cache has not
    seen yet (created a moment ago) costs a store read.
    """

    def __init__(self, namespaces, cache):
        self._namespaces = namespaces  # the Namespace Registry
        self._cache = cache            # and its WatchCache

    async def admit_create(self, obj: Message) -> None:
        name = obj.metadata.namespace
        cached = self._cache.get(self._namespaces.kind.key("", name))
        # NOT_FOUND from the store names the namespace.
        namespace = cached.obj if cached is not None else await self._namespaces.get("", name)
        if namespace.metadata.HasField("deletion_timestamp"):
            raise errors.forbidden(f'unable to create new content in namespace {name} '
                                   f'because it is being terminated')


class ServiceAllocation(AdmissionPlugin):
    """A Service's ClusterIP and NodePorts: allocated on create, kept across updates.

    What a client leaves empty on update (a re-applied manifest has no
    clusterIP or nodePort) is carried over from the stored Service, as
    Kubernetes does; node ports a Service stops using are freed once the
    update is written.
    """

    def __init__(self, ips: Allocator, ports: Allocator, *, service_cidr: str):
        self._ips = ips
        self._ports = ports
        self._cidr = service_cidr

    async def admit_create(self, svc: Message) -> None:
        spec, owner = svc.spec, svc.metadata.uid
        try:
            if spec.cluster_ip == "None":
                spec.cluster_ips[:] = ["None"]
            else:
                spec.cluster_ip = await self._take_ip(spec.cluster_ip, owner)
                spec.cluster_ips[:] = [spec.cluster_ip]
            spec.ip_families[:] = spec.ip_families or ["IPv4"]
            spec.ip_family_policy = spec.ip_family_policy or "SingleStack"
            await self._take_node_ports(svc, owner)
        except BaseException:
            await self.release(svc)
            raise

    async def admit_update(self, new: Message, old: Message) -> None:
        spec, kept = new.spec, old.spec
        if not spec.cluster_ip:
            spec.cluster_ip = kept.cluster_ip
        if not spec.cluster_ips:
            spec.cluster_ips[:] = kept.cluster_ips
        if not spec.ip_families:
            spec.ip_families[:] = kept.ip_families
        spec.ip_family_policy = spec.ip_family_policy or kept.ip_family_policy
        if spec.type == "NodePort":
            previous = {(p.port, p.protocol): p.node_port for p in kept.ports if p.node_port}
            for port in spec.ports:
                if not port.node_port:
                    port.node_port = previous.get((port.port, port.protocol), 0)
            try:
                await self._take_node_ports(new, new.metadata.uid, already=_node_ports(old))
            except BaseException:
                await self.release_update(new, old)
                raise
        else:
            # Fields that only mean something for NodePort go with the type,
            # unless the request set them itself (as Kubernetes drops them).
            for port in spec.ports:
                port.node_port = 0
            if kept.type == "NodePort" and spec.external_traffic_policy == kept.external_traffic_policy:
                spec.external_traffic_policy = ""

    async def commit_update(self, new: Message, old: Message) -> None:
        for port in _node_ports(old) - _node_ports(new):
            await self._ports.release(port, old.metadata.uid)

    async def release_update(self, new: Message, old: Message) -> None:
        for port in _node_ports(new) - _node_ports(old):
            await self._ports.release(port, new.metadata.uid)

    async def release(self, svc: Message) -> None:
        owner = svc.metadata.uid
        if svc.spec.cluster_ip and svc.spec.cluster_ip != "None":
            await self._ips.release(svc.spec.cluster_ip, owner)
        for port in _node_ports(svc):
            await self._ports.release(port, owner)

    async def _take_ip(self, requested: str, owner: str) -> str:
        if requested and not self._ips.contains(requested):
            raise invalid_value("spec.clusterIP", requested,
                                f"provided IP is not in the valid range. The range of valid IPs is {self._cidr}")
        try:
            return await self._ips.allocate(owner, requested or None)
        except AlreadyAllocated:
            raise invalid_value("spec.clusterIP", requested, "provided IP is already allocated") from None
        except RangeFull:
            raise errors.ApiError(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                  f"no ClusterIP left in {self._cidr}") from None

    async def _take_node_ports(self, svc: Message, owner: str, already: frozenset = frozenset()) -> None:
        if svc.spec.type != "NodePort":
            return
        for index, port in enumerate(svc.spec.ports):
            if port.node_port in already:
                continue
            if port.node_port and not self._ports.contains(port.node_port):
                raise invalid_value(f"spec.ports[{index}].nodePort", port.node_port,
                                    "provided port is not in the valid range")
            try:
                port.node_port = int(await self._ports.allocate(owner, port.node_port or None))
            except AlreadyAllocated:
                raise invalid_value(f"spec.ports[{index}].nodePort", port.node_port,
                                    "provided port is already allocated") from None
            except RangeFull:
                raise errors.ApiError(grpc.StatusCode.RESOURCE_EXHAUSTED, "no NodePort left") from None

    async def repair(self, live_uids: set[str], *, older_than: int) -> int:
        """Free values held by Services that no longer exist; returns how many.

        Only values allocated at or before revision `older_than` are freed, so a
        create still between allocating and writing its Service is left alone.
        """
        freed = 0
        for allocator in (self._ips, self._ports):
            for value, (owner, revision) in (await allocator.holders()).items():
                if owner not in live_uids and revision <= older_than:
                    await allocator.release_if_unchanged(value, revision)
                    freed += 1
        return freed


def _node_ports(svc: Message) -> frozenset:
    return frozenset(p.node_port for p in svc.spec.ports if p.node_port)
