"""The controller manager's settings: what to run and how (cheap to import: the CLI's flags use it)."""
import dataclasses
import os
import socket
import uuid

# Every controller by name, in the order the manager starts them.
CONTROLLER_NAMES = ("replicaset", "deployment", "daemonset", "statefulset", "persistentvolume", "volumeprotection",
                    "disruption", "resourcequota", "job", "cronjob", "endpoints", "servicelb", "namespace",
                    "garbagecollector", "serviceaccount", "nodeipam", "nodelifecycle", "podgc",
                    "horizontalpodautoscaling")


def _identity() -> str:
    return f"{socket.gethostname()}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


@dataclasses.dataclass
class ControllerOptions:
    controllers: tuple[str, ...] = CONTROLLER_NAMES   # which to run
    workers: int | None = None             # workers per controller (default: each controller's own)
    # node lifecycle
    node_monitor_period: float = 5.0
    node_monitor_grace_period: float = 40.0
    node_startup_grace_period: float = 60.0
    node_eviction_rate: float = 0.1        # nodes tainted for eviction per second, per zone
    secondary_node_eviction_rate: float = 0.01
    unhealthy_zone_threshold: float = 0.55
    large_cluster_size_threshold: int = 50
    # node IPAM
    cluster_cidr: str = "10.244.0.0/16"
    node_cidr_mask_size: int = 24
    # pod garbage collection
    terminated_pod_gc_threshold: int = 12500   # finished pods kept; the oldest beyond go (0: keep all)
    pod_gc_quarantine: float = 40.0        # seconds a node must stay gone before its pods are deleted
    # jobs
    job_backoff_seconds: float = 10.0      # first delay before a failed Job pod is replaced; doubles
    # resource quotas
    resource_quota_sync_period: float = 300.0   # seconds between two full recounts of every quota
    # horizontal pod autoscaling
    hpa_sync_period: float = 15.0          # seconds between two looks at each HPA
    # leader election
    leader_elect: bool = True
    identity: str = dataclasses.field(default_factory=_identity)
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self):
        unknown = set(self.controllers) - set(CONTROLLER_NAMES)
        if unknown:
            raise ValueError(f"unknown controllers: {', '.join(sorted(unknown))} "
                             f"(known: {', '.join(CONTROLLER_NAMES)})")
        if not self.lease_duration > self.renew_deadline > self.retry_period > 0:
            raise ValueError("leader election needs lease duration > renew deadline > retry period > 0")
