"""Removing every pod of this node at once: `cox agent --cleanup --cleanup-pods` (and deploy/uninstall.sh).

The kubelet never does this itself: stopping it leaves the pods running for
the next agent to adopt. Here they go for good, with the agent stopped (a
running one would only start them again): every container carrying our
label, whatever pod it belongs to, then every pod directory under the root
directory, unmounting the volumes' tmpfs mounts (secrets, configMaps,
memory emptyDirs), which outlive the agent otherwise.
"""
from pathlib import Path

from agent.kubelet.objects import NoObjects
from agent.kubelet.volumes import PodVolumes
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
    return removed
