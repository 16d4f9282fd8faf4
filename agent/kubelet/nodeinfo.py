"""What the node reports about itself: capacity, addresses, system info, pressure.

Read from the host (/proc, statvfs, the routing table) each time it is
asked, so a status update carries current numbers. The node status reporter
asks a `NodeFacts`: `HostFacts` on a real node; hollow nodes
(tests/support/hollow.py) give it facts of their own.
"""
import os
import platform
import socket
from pathlib import Path
from typing import Protocol

MEMORY_PRESSURE_BELOW = 100 * 1024 * 1024   # Kubernetes' default eviction threshold: memory.available<100Mi
DISK_PRESSURE_BELOW = 0.10                  # nodefs.available<10%
PID_PRESSURE_ABOVE = 0.90                   # of pid_max in use


def meminfo() -> dict[str, int]:
    """/proc/meminfo in bytes."""
    found = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            found[name] = int(parts[0]) * (1024 if len(parts) > 1 else 1)
    return found


class NodeFacts(Protocol):
    def capacity(self) -> dict[str, str]:
        """cpu, memory, pods (and ephemeral-storage) as quantities."""

    def pressure(self) -> dict[str, bool]:
        """MemoryPressure, DiskPressure, PIDPressure."""

    def system_info(self, runtime_version: str, kubelet_version: str) -> dict[str, str]:
        """The fields of the Node's nodeInfo."""


class HostFacts:
    """The facts of the host this agent runs on, its pods' volumes under `root`."""

    def __init__(self, root: Path, max_pods: int) -> None:
        self._root = root
        self._max_pods = max_pods

    def capacity(self) -> dict[str, str]:
        return capacity(self._root, self._max_pods)

    def pressure(self) -> dict[str, bool]:
        return pressure(self._root)

    def system_info(self, runtime_version: str, kubelet_version: str) -> dict[str, str]:
        return system_info(runtime_version, kubelet_version)


def capacity(root: Path, max_pods: int) -> dict[str, str]:
    stat = os.statvfs(_existing(root))
    return {"cpu": str(os.cpu_count() or 1), "memory": f"{meminfo()['MemTotal'] // 1024}Ki",
            "pods": str(max_pods), "ephemeral-storage": f"{stat.f_blocks * stat.f_frsize // 1024}Ki"}


def pressure(root: Path) -> dict[str, bool]:
    """MemoryPressure, DiskPressure, PIDPressure as the kubelet's default eviction thresholds see them."""
    stat = os.statvfs(_existing(root))
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    pids = sum(1 for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return {"MemoryPressure": meminfo().get("MemAvailable", 1 << 62) < MEMORY_PRESSURE_BELOW,
            "DiskPressure": stat.f_bavail < stat.f_blocks * DISK_PRESSURE_BELOW,
            "PIDPressure": pids > pid_max * PID_PRESSURE_ABOVE}


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def default_ip() -> str:
    """The source address of the default route; 127.0.0.1 if there is none."""
    from agent.pyroute import IPRoute   # only here: it costs the agent ~5 MB of memory to import
    with IPRoute() as ipr:
        for route in ipr.get_default_routes(family=socket.AF_INET):
            source = route.get_attr("RTA_PREFSRC")
            if source:
                return source
            index = route.get_attr("RTA_OIF")
            for address in ipr.get_addr(family=socket.AF_INET, index=index):
                return address.get_attr("IFA_ADDRESS")
    return "127.0.0.1"


def system_info(runtime_version: str, kubelet_version: str) -> dict[str, str]:
    def read(path: str) -> str:
        try:
            return Path(path).read_text().strip()
        except OSError:
            return ""
    os_release = dict(line.split("=", 1) for line in read("/etc/os-release").splitlines() if "=" in line)
    return {"machine_id": read("/etc/machine-id"), "boot_id": read("/proc/sys/kernel/random/boot_id"),
            "system_uuid": read("/sys/class/dmi/id/product_uuid"),
            "kernel_version": platform.release(), "os_image": os_release.get("PRETTY_NAME", "").strip('"'),
            "container_runtime_version": f"docker://{runtime_version}", "kubelet_version": kubelet_version,
            "operating_system": "linux", "architecture": {"x86_64": "amd64", "aarch64": "arm64"}.get(
                platform.machine(), platform.machine())}


def parse_taint(text: str) -> dict[str, str]:
    """key=value:Effect (or key:Effect) as --register-with-taints takes it."""
    spec, _, effect = text.rpartition(":")
    key, _, value = spec.partition("=")
    if not key or effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
        raise ValueError(f'taint "{text}": expected key[=value]:NoSchedule|PreferNoSchedule|NoExecute')
    return {"key": key, "value": value, "effect": effect}
