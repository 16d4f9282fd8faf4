"""One container's CPU and memory, as the Docker Engine counts them (its stats endpoint, one shot).

`one_shot` makes the daemon answer from one read of the cgroup instead of
waiting a second for a second read (which it does to fill `precpu_stats`):
the kubelet keeps its own previous sample and takes rates itself
(agent/kubelet/usage.py), so a round of stats costs one quick call per
container. Memory is the working set, as the kubelet and cAdvisor count it:
usage less the inactive file cache, which the kernel reclaims first.
"""
import time
from dataclasses import dataclass

from agent.runtime.engine import Engine


@dataclass(frozen=True)
class ContainerStats:
    cpu_seconds: float      # CPU time used since the container started, in core-seconds
    memory_bytes: int       # working set
    at: float               # time.monotonic() when read


def from_docker(stats: dict, *, at: float) -> ContainerStats:
    """The sample in a Docker stats answer (cgroup v2 or v1 field names)."""
    cpu = stats.get("cpu_stats", {}).get("cpu_usage", {}).get("total_usage", 0)
    memory = stats.get("memory_stats", {})
    detail = memory.get("stats", {})
    inactive = detail.get("inactive_file", detail.get("total_inactive_file", 0))
    usage = memory.get("usage", 0)
    return ContainerStats(cpu_seconds=cpu / 1e9, memory_bytes=max(usage - inactive, 0), at=at)


class Stats:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def sample(self, container_id: str) -> ContainerStats:
        answer = await self._engine.call(self._engine.api.stats, container_id, one_shot=True)
        return from_docker(answer, at=time.monotonic())
