"""Removing every pod of this node at once: `cox agent --cleanup --cleanup-pods` (and deploy/uninstall.sh).

The kubelet never does this itself: stopping it leaves the pods running for
the next agent to adopt. Here they go for good, with the agent stopped (a
running one would only start them again): every container carrying our
label, whatever pod it belongs to, then every pod directory under the root
directory, unmounting the volumes' tmpfs mounts (secrets, configMaps,
memory emptyDirs), which outlive the agent otherwise; and the pods'
addresses (agent/network/ipam.py), which only a removed pod gives back.
"""
from pathlib import Path

from agent.kubelet.objects import NoObjects
from agent.kubelet.volumes import PodVolumes
from agent.network.ipam import DIRECTORY as ADDRESSES
from agent.network.ipam import LAST
from agent.runtime import Runtime
from agent.runtime.types import Kind


async def cleanup(runtime: Runtime, *, root_dir: Path) -> list[str]:
    """Remove the pods' containers (sandboxes last) and directories; one line for each."""
    removed = []
    containers = await runtime.containers.list()
    for container in sorted(containers, key=lambda c: c.kind is Kind.SANDBOX):
        await runtime.containers.remove(container.id)
        removed.append(f"removed container {container.name} of pod {container.pod.namespace}/{container.pod.name}")
    volumes = PodVolumes(root_dir, NoObjects())
    for uid in sorted(volumes.known_pods()):
        await volumes.teardown(uid)
        removed.append(f"removed pod directory {volumes.pod_dir(uid)}")
    addresses = root_dir / ADDRESSES
    for path in sorted(addresses.iterdir()) if addresses.is_dir() else ():
        path.unlink()
        if path.name != LAST:
            removed.append(f"released pod address {path.name}")
    return removed
