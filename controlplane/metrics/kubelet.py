"""The node agent's series, as the kubelet names them.

Pod start: from the kubelet first seeing a pod to its phase turning Running
(a pod adopted already Running after a restart is not counted). Runtime
operations: every Docker call, by the docker-py method's name, with the
kubelet's operation_type label. Running pods (with a running sandbox) and
containers by state are read from the kubelet's container cache when scraped.
"""
from __future__ import annotations

from prometheus_client.metrics import Counter, Histogram

from controlplane.metrics.live import LiveGauge

# The kubelet's pod start buckets: 0.5 s to 30 min; its runtime operation buckets: 5 ms to ~2 min.
_START_BUCKETS = (0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800)
_OPERATION_BUCKETS = (0.005, 0.0125, 0.03125, 0.078125, 0.1953125, 0.48828125, 1.220703125, 3.0517578125,
                      7.62939453125, 19.073486328125, 47.6837158203125, 119.20928955078125)

POD_START = Histogram("kubelet_pod_start_duration_seconds",
                      "From the kubelet first seeing a pod to the pod running", buckets=_START_BUCKETS)
OPERATIONS = Histogram("kubelet_runtime_operations_duration_seconds",
                       "Latency of container runtime (Docker Engine) calls, by operation", ["operation_type"],
                       buckets=_OPERATION_BUCKETS)
OPERATION_ERRORS = Counter("kubelet_runtime_operations_errors_total",
                           "Container runtime (Docker Engine) calls that failed, by operation", ["operation_type"])
RUNNING_PODS = LiveGauge("kubelet_running_pods", "Pods with a running sandbox")
RUNNING_CONTAINERS = LiveGauge("kubelet_running_containers", "Containers (sandboxes too) by state",
                               ("container_state",))


def track_containers(cache) -> None:
    """Report the container cache's running_pods() and states() ({state: count}) while it lives."""
    RUNNING_PODS.track(cache, lambda c: float(c.running_pods()))
    RUNNING_CONTAINERS.track(cache, lambda c: {(state,): float(n) for state, n in c.states().items()})


def runtime_operation(name: str, seconds: float, *, failed: bool) -> None:
    OPERATIONS.labels(name).observe(seconds)
    if failed:
        OPERATION_ERRORS.labels(name).inc()
