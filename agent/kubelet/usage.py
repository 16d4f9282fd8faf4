"""Resource usage from samples: rates, the node's /proc counters, and the objects that report them.

Pure functions, so the arithmetic is tested without a daemon. CPU is a rate:
core-seconds used between two samples over the seconds between them, as
metrics-server reports it (nanocores). Memory is the working set at the last
sample (Ki). The node's figures come from the host's /proc: busy jiffies
from /proc/stat, MemTotal less MemAvailable from /proc/meminfo.
"""
import os
from typing import Mapping

from google.protobuf.message import Message

from controlplane.api.kinds import KINDS

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# /proc/stat's cpu line: user nice system idle iowait irq softirq steal; busy leaves idle and iowait out.
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)


def cores(previous_seconds: float, previous_at: float, seconds: float, at: float) -> float | None:
    """Cores used on average between two samples; None when they are not in order (a restart)."""
    if at <= previous_at or seconds < previous_seconds:
        return None
    return (seconds - previous_seconds) / (at - previous_at)


def node_cpu_seconds(proc_stat: str) -> float:
    """Core-seconds the node's CPUs have been busy since boot."""
    fields = proc_stat.split("\n", 1)[0].split()[1:]
    return sum(int(fields[i]) for i in _BUSY_FIELDS if i < len(fields)) / CLOCK_TICKS


def node_memory_bytes(meminfo: str) -> int:
    """Memory in use: MemTotal less MemAvailable."""
    values = {}
    for line in meminfo.splitlines():
        key, _, rest = line.partition(":")
        if key in ("MemTotal", "MemAvailable"):
            values[key] = int(rest.split()[0]) * 1024
    return max(values.get("MemTotal", 0) - values.get("MemAvailable", 0), 0)


def usage(cpu_cores: float, memory_bytes: int) -> dict[str, str]:
    return {"cpu": f"{max(int(cpu_cores * 1e9), 0)}n", "memory": f"{memory_bytes // 1024}Ki"}


def _measured(kind: str, *, metadata: dict, window: float, now: float, **fields) -> Message:
    return KINDS[kind].new(metadata=metadata, window=f"{window:.3f}s",
                           timestamp={"seconds": int(now), "nanos": int(now % 1 * 1e9)}, **fields)


def node_metrics(node: str, *, cpu_cores: float, memory_bytes: int, window: float, now: float) -> Message:
    return _measured("NodeMetrics", metadata={"name": node}, window=window, now=now,
                     usage=usage(cpu_cores, memory_bytes))


def pod_metrics(namespace: str, name: str, uid: str, containers: dict[str, tuple[float, int]], *,
                window: float, now: float, labels: Mapping[str, str] | None = None) -> Message:
    """A pod's usage, owned by the pod (not as its controller) so the garbage collector deletes it
    with the pod; with the pod's labels, so a label selector picks it as it picks the pod."""
    owner = {"api_version": "v1", "kind": "Pod", "name": name, "uid": uid}
    return _measured("PodMetrics", metadata={"name": name, "namespace": namespace, "owner_references": [owner],
                                             "labels": dict(labels or {})},
                     window=window, now=now,
                     containers=[{"name": c, "usage": usage(cpu, memory)}
                                 for c, (cpu, memory) in sorted(containers.items())])
