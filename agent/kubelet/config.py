"""The kubelet's settings (the flags of `cox agent`)."""
import socket
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class KubeletConfig:
    node_name: str = field(default_factory=lambda: socket.gethostname().lower())
    docker_url: str = "unix:///var/run/docker.sock"
    root_dir: Path = Path("/var/lib/cox/agent")
    pod_manifest_path: Path | None = None
    file_check_seconds: float = 2.0   # how often the manifest directory is re-read
    volume_refresh_seconds: float = 60.0   # how often ConfigMap/Secret volumes are projected again
    node_ip: str = ""                 # InternalIP; found from the default route when empty
    node_labels: dict[str, str] = field(default_factory=dict)
    register_node: bool = True
    register_with_taints: tuple[str, ...] = ()   # key=value:Effect
    cluster_dns: tuple[str, ...] = ()
    cluster_domain: str = "cluster.local"
    max_pods: int = 110
    listen: str = "0.0.0.0:10250"     # the agent's own endpoint (logs, exec); "" for none
    relist_seconds: float = 1.0       # how often the PLEG lists every container (events cover the gaps)
    heartbeat_seconds: float = 10.0
    lease_duration_seconds: int = 40
