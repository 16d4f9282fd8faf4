"""The runtime's vocabulary: what the kubelet asks for and what it gets back.

Plain frozen dataclasses, free of both Docker's JSON and the API's protobuf
types, so the kubelet translates a PodSpec once (in its own terms) and the
runtime translates these once into Docker's.
"""
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class Kind(str, Enum):
    """What a managed container is for."""
    SANDBOX = "sandbox"   # the pause container: owns the pod's network and IPC namespaces
    INIT = "init"         # an initContainer: runs to completion before the app containers
    APP = "app"


class State(str, Enum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PodRef:
    """Which pod a container belongs to; the uid alone is the identity."""
    uid: str
    namespace: str
    name: str


@dataclass(frozen=True)
class Mount:
    """A host path bind-mounted into a container (pod volumes live on the host)."""
    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class PortMapping:
    """A hostPort: published on the node, forwarded to the pod's containerPort."""
    container_port: int
    host_port: int
    protocol: str = "TCP"
    host_ip: str = ""


@dataclass(frozen=True)
class DnsConfig:
    nameservers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Security:
    """What a container's securityContext asks of Docker. user is "uid" or "uid:gid" ("" keeps the
    image's USER); seccomp_unconfined turns Docker's default profile off."""
    user: str = ""
    privileged: bool = False
    read_only_root: bool = False
    no_new_privileges: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    seccomp_unconfined: bool = False
    groups: tuple[int, ...] = ()   # supplementary groups of its processes (fsGroup, supplementalGroups)


@dataclass(frozen=True)
class SandboxConfig:
    """The pause container of one pod (one attempt: a dead sandbox is replaced, not restarted)."""
    pod: PodRef
    attempt: int = 0
    hostname: str = ""
    host_network: bool = False
    dns: DnsConfig | None = None
    ports: tuple[PortMapping, ...] = ()
    grace_seconds: int = 30
    ip: str = ""   # set: the agent wires the sandbox's namespace itself with this pod IP (network_mode=none)
    sysctls: tuple[tuple[str, str], ...] = ()   # the pod's, set in its namespaces (net.* in its network)
    host_aliases: tuple[tuple[str, str], ...] = ()   # (hostname, ip): extra /etc/hosts lines of the pod


@dataclass(frozen=True)
class ContainerConfig:
    """One attempt of one container of a pod, joined to the pod's sandbox.

    command replaces the image's ENTRYPOINT and args its CMD, as in
    Kubernetes; None keeps the image's. Quantities are already numbers:
    CPU in millicores, memory in bytes, 0 meaning "not set".
    """
    pod: PodRef
    name: str
    image: str
    kind: Kind = Kind.APP
    attempt: int = 0
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()
    working_dir: str = ""
    mounts: tuple[Mount, ...] = ()
    cpu_limit_millis: int = 0
    cpu_request_millis: int = 0
    memory_limit: int = 0
    memory_request: int = 0
    stdin: bool = False
    tty: bool = False
    spec_hash: str = ""
    grace_seconds: int = 30
    security: Security = Security()
    share_process_namespace: bool = False   # joins the sandbox's PID namespace: the pause is PID 1


@dataclass(frozen=True)
class ContainerSummary:
    """One line of a container listing: enough to notice that something changed."""
    id: str
    pod: PodRef
    name: str           # the name in the pod spec; labels.SANDBOX_NAME for a sandbox
    kind: Kind
    attempt: int
    state: State
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, kw_only=True)
class ContainerStatus(ContainerSummary):
    """Everything the kubelet reports about one container, from one inspect.

    For a sandbox, `ip` is the pod IP (empty with host networking: the pod
    uses the node's addresses), from Docker's network or, for a sandbox the
    agent wires itself, from its label; `pid` its process, whose network
    namespace that wiring enters.
    """
    image: str
    image_id: str
    spec_hash: str
    grace_seconds: int
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    exit_code: int | None
    oom_killed: bool
    error: str
    ip: str = ""
    host_network: bool = False
    sandbox_id: str = ""    # for a container joined to a sandbox: the sandbox's id
    stop_signal: str = "SIGTERM"   # the image's STOPSIGNAL: what a graceful stop sends first
    resolv_conf_path: str = ""     # the resolv.conf Docker made for it (a started sandbox's is rewritten)
    pid: int = 0                   # of a running container


@dataclass(frozen=True)
class ExecResult:
    exit_code: int | None   # None when the command timed out (it may still be running)
    output: bytes
    timed_out: bool = False
