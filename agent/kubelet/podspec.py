"""A PodSpec in the runtime's terms: the sandbox config and one config per container.

Pure translation, no I/O: the caller resolves what needs fetching (env
values, volume paths) first. Quantities become numbers here; the spec hash
that labels each container lets a restarted kubelet tell whether a running
container still matches its spec.
"""
import hashlib
import posixpath
from dataclasses import dataclass

from google.protobuf.message import Message

from agent.kubelet import security
from agent.kubelet.envvars import expand
from agent.runtime.types import ContainerConfig, DnsConfig, Kind, Mount, PodRef, PortMapping, SandboxConfig
from controlplane.api import quantity

DEFAULT_GRACE_SECONDS = 30


@dataclass(frozen=True)
class DnsSettings:
    """The node's cluster DNS (kubelet --cluster-dns / --cluster-domain); empty: none runs."""
    nameservers: tuple[str, ...] = ()
    domain: str = "cluster.local"


def pod_ref(pod: Message) -> PodRef:
    return PodRef(uid=pod.metadata.uid, namespace=pod.metadata.namespace, name=pod.metadata.name)


def grace_seconds(pod: Message) -> int:
    spec = pod.spec
    return spec.termination_grace_period_seconds if spec.HasField("termination_grace_period_seconds") \
        else DEFAULT_GRACE_SECONDS


def field_path(pod: Message, name: str) -> str:
    """How events name one of the pod's containers (involvedObject.fieldPath), as Kubernetes does."""
    if any(c.name == name for c in pod.spec.init_containers):
        return f"spec.initContainers{{{name}}}"
    return f"spec.containers{{{name}}}"


def container_named(pod: Message, name: str, *, init: bool) -> Message | None:
    """The pod's init (init=True) or app container of that name; None if the spec has none."""
    return next((c for c in (pod.spec.init_containers if init else pod.spec.containers) if c.name == name), None)


def spec_hash(container: Message) -> str:
    return hashlib.sha256(container.SerializeToString(deterministic=True)).hexdigest()[:16]


def hostname(pod: Message) -> str:
    return (pod.spec.hostname or pod.metadata.name)[:63].rstrip("-.")


def dns_config(pod: Message, settings: DnsSettings) -> DnsConfig | None:
    """None means Docker's default (the node's resolv.conf), which is dnsPolicy Default."""
    spec = pod.spec
    policy = spec.dns_policy or "ClusterFirst"
    cluster = policy == "ClusterFirstWithHostNet" or (policy == "ClusterFirst" and not spec.host_network)
    nameservers, searches, options = [], [], []
    if cluster and settings.nameservers:
        ns = pod.metadata.namespace
        domain = settings.domain
        nameservers = list(settings.nameservers)
        searches = [f"{ns}.svc.{domain}", f"svc.{domain}", domain]
        options = ["ndots:5"]
    elif policy != "None" and not spec.HasField("dns_config"):
        return None
    extra = spec.dns_config
    nameservers += [n for n in extra.nameservers if n not in nameservers]
    searches += [s for s in extra.searches if s not in searches]
    options += [f"{o.name}:{o.value}" if o.value else o.name for o in extra.options]
    return DnsConfig(nameservers=tuple(nameservers), searches=tuple(searches), options=tuple(options))


def sandbox_config(pod: Message, *, attempt: int, dns: DnsSettings) -> SandboxConfig:
    ports = tuple(PortMapping(container_port=p.container_port, host_port=p.host_port,
                              protocol=p.protocol or "TCP", host_ip=p.host_ip)
                  for c in pod.spec.containers for p in c.ports if p.host_port and not pod.spec.host_network)
    return SandboxConfig(pod=pod_ref(pod), attempt=attempt, hostname=hostname(pod),
                         host_network=pod.spec.host_network, dns=dns_config(pod, dns), ports=ports,
                         grace_seconds=grace_seconds(pod), sysctls=security.sysctls(pod),
                         host_aliases=tuple((name, alias.ip) for alias in pod.spec.host_aliases
                                            for name in alias.hostnames))


def container_config(pod: Message, container: Message, *, kind: Kind, attempt: int, env: dict[str, str],
                     volume_paths: dict[str, str], extra_mounts: tuple[Mount, ...] = ()) -> ContainerConfig:
    """env is already resolved (envvars.py); volume_paths maps volume names to host paths (volumes.py)."""
    limits, requests = container.resources.limits, container.resources.requests
    mounts = tuple(Mount(source=posixpath.join(volume_paths[m.name], m.sub_path) if m.sub_path
                         else volume_paths[m.name], target=m.mount_path, read_only=m.read_only)
                   for m in container.volume_mounts)
    return ContainerConfig(
        pod=pod_ref(pod), name=container.name, image=container.image, kind=kind, attempt=attempt,
        command=tuple(expand(a, env) for a in container.command) if container.command else None,
        args=tuple(expand(a, env) for a in container.args) if container.args else None,
        env=tuple(env.items()), working_dir=container.working_dir, mounts=mounts + extra_mounts,
        cpu_limit_millis=quantity.millicores(limits["cpu"]) if "cpu" in limits else 0,
        cpu_request_millis=quantity.millicores(requests["cpu"]) if "cpu" in requests else 0,
        memory_limit=quantity.to_int(limits["memory"]) if "memory" in limits else 0,
        memory_request=quantity.to_int(requests["memory"]) if "memory" in requests else 0,
        stdin=container.stdin, tty=container.tty, spec_hash=spec_hash(container),
        grace_seconds=grace_seconds(pod), security=security.container_security(pod, container),
        share_process_namespace=pod.spec.share_process_namespace)
