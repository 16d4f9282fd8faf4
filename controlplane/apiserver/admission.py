"""Admission: checks and changes to an object between validation and the store.

Plugins see every create and update of the kinds they are attached to, and
are told when an object they admitted was not written or was deleted, so
anything they allocate (a ClusterIP, a NodePort) is given back. In a dry run
they check what they would do but take nothing.
"""
import grpc
from google.protobuf.message import Message

from controlplane.api import serviceaccounts
from controlplane.api.validation.services import EXTERNAL_TYPES
from controlplane.api.wellknown import MIRROR_POD_ANNOTATION, PROTECTION_FINALIZERS
from controlplane.apiserver import errors
from controlplane.apiserver.allocator import AlreadyAllocated, Allocator, RangeFull, invalid_value


class AdmissionPlugin:
    """Base with no-op hooks; a plugin overrides what it needs."""

    async def admit_create(self, obj: Message, *, dry_run: bool = False) -> None:
        pass

    async def admit_update(self, new: Message, old: Message, *, dry_run: bool = False) -> None:
        pass

    async def admit_status_update(self, new: Message, old: Message) -> None:
        """A write of the status subresource: only checks, as status writes change nothing else."""

    async def commit_update(self, new: Message, old: Message) -> None:
        """The update was written: give back what `old` held and `new` does not."""

    async def release_update(self, new: Message, old: Message) -> None:
        """The update was not written: give back what admit_update took for `new`."""

    async def release(self, obj: Message) -> None:
        """The object was not written after all, or is gone: give back what it held."""


class StorageObjectInUseProtection(AdmissionPlugin):
    """New claims and volumes carry Kubernetes' protection finalizers: a claim a pod still uses, or a
    volume still bound, stays until the volume-protection controller lets it go, so deleting
    either never pulls storage from under a running pod."""

    async def admit_create(self, obj: Message, *, dry_run: bool = False) -> None:
        finalizer = PROTECTION_FINALIZERS[obj.DESCRIPTOR.name]
        if finalizer not in obj.metadata.finalizers:
            obj.metadata.finalizers.append(finalizer)


class NamespaceLifecycle(AdmissionPlugin):
    """No new objects in a namespace that does not exist or is being deleted.

    Asks the namespace watch cache first; only a namespace the cache has not
    seen yet (created a moment ago) costs a store read.
    """

    def __init__(self, namespaces, cache):
        self._namespaces = namespaces  # the Namespace Registry
        self._cache = cache            # and its WatchCache

    async def admit_create(self, obj: Message, *, dry_run: bool = False) -> None:
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

    async def admit_create(self, svc: Message, *, dry_run: bool = False) -> None:
        spec, owner = svc.spec, svc.metadata.uid
        if spec.type == "ExternalName":  # a DNS alias: no address, no ports, no IP family
            return
        spec.ip_families[:] = spec.ip_families or ["IPv4"]
        spec.ip_family_policy = spec.ip_family_policy or "SingleStack"
        if dry_run:
            await self._check_free(svc)
            return
        try:
            if spec.cluster_ip == "None":
                spec.cluster_ips[:] = ["None"]
            else:
                spec.cluster_ip = await self._take_ip(spec.cluster_ip, owner)
                spec.cluster_ips[:] = [spec.cluster_ip]
            await self._take_node_ports(svc, owner)
        except BaseException:
            await self.release(svc)
            raise

    async def admit_update(self, new: Message, old: Message, *, dry_run: bool = False) -> None:
        spec, kept = new.spec, old.spec
        if not spec.cluster_ip:
            spec.cluster_ip = kept.cluster_ip
        if not spec.cluster_ips:
            spec.cluster_ips[:] = kept.cluster_ips
        if not spec.ip_families:
            spec.ip_families[:] = kept.ip_families
        spec.ip_family_policy = spec.ip_family_policy or kept.ip_family_policy
        if spec.type in EXTERNAL_TYPES:
            previous = {(p.port, p.protocol): p.node_port for p in kept.ports if p.node_port}
            for port in spec.ports:
                if not port.node_port:
                    port.node_port = previous.get((port.port, port.protocol), 0)
            if _needs_health_check(spec) and _needs_health_check(kept):
                spec.health_check_node_port = spec.health_check_node_port or kept.health_check_node_port
            elif spec.health_check_node_port == kept.health_check_node_port:
                spec.health_check_node_port = 0  # it went with the Local policy, as in Kubernetes
            if dry_run:
                await self._check_free(new, held=old)
                return
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
            if spec.health_check_node_port == kept.health_check_node_port:
                spec.health_check_node_port = 0
            if kept.type in EXTERNAL_TYPES and spec.external_traffic_policy == kept.external_traffic_policy:
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

    async def _check_free(self, svc: Message, *, held: Message | None = None) -> None:
        """What admission would refuse, without taking anything (a dry run).

        `held` is the stored Service on an update: what it holds is not in the way.
        """
        spec = svc.spec
        already = _node_ports(held) if held is not None else frozenset()
        new_ip = spec.cluster_ip not in ("", "None") and (held is None or held.spec.cluster_ip != spec.cluster_ip)
        if new_ip:
            if not self._ips.contains(spec.cluster_ip):
                raise invalid_value("spec.clusterIP", spec.cluster_ip,
                                    f"provided IP is not in the valid range. The range of valid IPs is {self._cidr}")
            if not await self._ips.is_free(spec.cluster_ip):
                raise invalid_value("spec.clusterIP", spec.cluster_ip, "provided IP is already allocated")
        for path, _, port in _requested_node_ports(spec):
            if port and port not in already:
                if not self._ports.contains(port):
                    raise invalid_value(path, port, "provided port is not in the valid range")
                if not await self._ports.is_free(port):
                    raise invalid_value(path, port, "provided port is already allocated")

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
        """Node ports for what needs one: every port of a NodePort Service, of a LoadBalancer one
        unless allocateLoadBalancerNodePorts is false (then only those it names), and the health
        check port of a LoadBalancer Service with the Local policy."""
        spec = svc.spec
        for path, index, port in _requested_node_ports(spec):
            if port in already or not (port or _allocates(spec, index)):
                continue
            if port and not self._ports.contains(port):
                raise invalid_value(path, port, "provided port is not in the valid range")
            try:
                taken = int(await self._ports.allocate(owner, port or None))
            except AlreadyAllocated:
                raise invalid_value(path, port, "provided port is already allocated") from None
            except RangeFull:
                raise errors.ApiError(grpc.StatusCode.RESOURCE_EXHAUSTED, "no NodePort left") from None
            if index is None:
                spec.health_check_node_port = taken
            else:
                spec.ports[index].node_port = taken

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


def _needs_health_check(spec) -> bool:
    """kube-proxy serves a health check port for a LoadBalancer Service whose traffic stays on the
    node it arrives at, so a load balancer can tell the nodes with endpoints."""
    return spec.type == "LoadBalancer" and spec.external_traffic_policy == "Local"


def _requested_node_ports(spec) -> list[tuple[str, int | None, int]]:
    """(field path, index in spec.ports or None for the health check port, requested port or 0) of
    every node port the Service's type may hold."""
    if spec.type not in EXTERNAL_TYPES:
        return []
    found = [(f"spec.ports[{index}].nodePort", index, port.node_port) for index, port in enumerate(spec.ports)]
    if _needs_health_check(spec):
        found.append(("spec.healthCheckNodePort", None, spec.health_check_node_port))
    return found


def _allocates(spec, index: int | None) -> bool:
    """Whether an unrequested node port (of spec.ports[index]; None: the health check's) is allocated."""
    if index is None or spec.type == "NodePort":
        return True
    return not spec.HasField("allocate_load_balancer_node_ports") or spec.allocate_load_balancer_node_ports


def _node_ports(svc: Message) -> frozenset:
    ports = {p.node_port for p in svc.spec.ports if p.node_port}
    return frozenset(ports | ({svc.spec.health_check_node_port} if svc.spec.health_check_node_port else set()))


class ServiceAccountAdmission(AdmissionPlugin):
    """Pods run as a service account (`default` unless named) with its token mounted.

    The token Secret (api/serviceaccounts.py) is mounted read-only at the path
    Kubernetes uses in every container, unless the pod or its account turns
    automounting off, or the pod mounts something there itself. A pod that
    names no imagePullSecrets gets its account's, so the pod alone says which
    Secrets its node may read for pulls. The account need not exist yet: the
    kubelet waits for the Secret as for any secret volume. Mirror pods are
    left alone, as in Kubernetes.
    """

    def __init__(self, accounts_cache):
        self._accounts = accounts_cache

    async def admit_create(self, pod: Message, *, dry_run: bool = False) -> None:
        if MIRROR_POD_ANNOTATION in pod.metadata.annotations:
            return
        spec = pod.spec
        spec.service_account_name = spec.service_account_name or serviceaccounts.DEFAULT_ACCOUNT
        account = self._account(pod)
        if not spec.image_pull_secrets and account is not None:
            spec.image_pull_secrets.extend(account.image_pull_secrets)
        if not self._automount(pod, account):
            return
        containers = [*spec.init_containers, *spec.containers]
        if any(m.mount_path == serviceaccounts.MOUNT_PATH for c in containers for m in c.volume_mounts):
            return
        volume = serviceaccounts.token_secret_name(spec.service_account_name)
        if any(v.name == volume for v in spec.volumes):
            return
        spec.volumes.add(name=volume, secret={"secret_name": volume, "default_mode": 0o644})
        for container in containers:
            container.volume_mounts.add(name=volume, mount_path=serviceaccounts.MOUNT_PATH, read_only=True)

    async def admit_update(self, new: Message, old: Message, *, dry_run: bool = False) -> None:
        """Keep what admission added when an update leaves it out (a re-applied manifest)."""
        spec, kept = new.spec, old.spec
        spec.service_account_name = spec.service_account_name or kept.service_account_name
        if not spec.image_pull_secrets:
            spec.image_pull_secrets.extend(kept.image_pull_secrets)
        volume = serviceaccounts.token_secret_name(kept.service_account_name)
        token_volume = next((v for v in kept.volumes if v.name == volume), None)
        if token_volume is None:
            return
        if not any(v.name == volume for v in spec.volumes):
            spec.volumes.append(token_volume)
        kept_mounts = {c.name: [m for m in c.volume_mounts if m.name == volume]
                       for c in (*kept.init_containers, *kept.containers)}
        for container in (*spec.init_containers, *spec.containers):
            if not any(m.name == volume for m in container.volume_mounts):
                container.volume_mounts.extend(kept_mounts.get(container.name, []))

    def _account(self, pod: Message) -> Message | None:
        cached = self._accounts.get(self._accounts.kind.key(pod.metadata.namespace, pod.spec.service_account_name))
        return None if cached is None else cached.obj

    @staticmethod
    def _automount(pod: Message, account: Message | None) -> bool:
        if pod.spec.HasField("automount_service_account_token"):
            return pod.spec.automount_service_account_token
        if account is not None and account.HasField("automount_service_account_token"):
            return account.automount_service_account_token
        return True


class PriorityAdmission(AdmissionPlugin):
    """A pod's priority comes from its PriorityClass (or the global default), as in Kubernetes.

    An unknown class is refused; a pod may not state a priority of its own that
    its class contradicts. Looks in the PriorityClass watch cache first, the
    store only for a class created a moment ago.
    """

    def __init__(self, classes, cache):
        self._classes = classes  # the PriorityClass Registry
        self._cache = cache

    async def _class(self, name: str) -> Message:
        cached = self._cache.get(self._classes.kind.key("", name))
        if cached is not None:
            return cached.obj
        try:
            return await self._classes.get("", name)
        except errors.ApiError:
            raise errors.forbidden(f"no PriorityClass with name {name} was found") from None

    async def admit_create(self, pod: Message, *, dry_run: bool = False) -> None:
        spec = pod.spec
        if spec.priority_class_name:
            chosen = await self._class(spec.priority_class_name)
        else:
            chosen = next((c.obj for c in self._cache.list() if c.obj.global_default), None)
        value = chosen.value if chosen is not None else 0
        if spec.HasField("priority") and spec.priority != value:
            raise errors.forbidden(f"the integer value of priority ({spec.priority}) must not be provided in "
                                   f"pod spec; priority admission controller computed {value} from the given "
                                   f"PriorityClass name")
        spec.priority = value
        if chosen is not None:
            spec.priority_class_name = chosen.metadata.name
            spec.preemption_policy = spec.preemption_policy or chosen.preemption_policy

    async def admit_update(self, new: Message, old: Message, *, dry_run: bool = False) -> None:
        """Keep what admission set when an update leaves it out (a re-applied manifest)."""
        spec, kept = new.spec, old.spec
        if not spec.HasField("priority") and kept.HasField("priority"):
            spec.priority = kept.priority
        spec.priority_class_name = spec.priority_class_name or kept.priority_class_name
        spec.preemption_policy = spec.preemption_policy or kept.preemption_policy
