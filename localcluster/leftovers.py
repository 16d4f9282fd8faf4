"""What a node can leave behind after its dockerd is gone: processes, cgroups, mounts.

Normally a node's containers are removed through its dockerd first; these
sweep up after a dockerd that was killed or never answered. Everything is
found by something that belongs to this cluster alone: the node's cgroup
parent (every container process sits below it) and the node's directories
(every mount dockerd made is below them).
"""
from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path


def _cgroup_mounts() -> list[Path]:
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        before, _, after = line.partition(" - ")
        if after.split()[0] in ("cgroup", "cgroup2"):
            mounts.append(Path(before.split()[4]))
    return mounts


def cgroup_dirs(parent: str) -> list[Path]:
    """The parent's directory in every mounted hierarchy that has one, and all below, deepest first."""
    found = []
    for mount in _cgroup_mounts():
        top = mount / parent.lstrip("/")
        if top.is_dir():
            found += [Path(d) for d, _, _ in os.walk(top)]
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def cgroup_pids(parent: str) -> list[int]:
    pids = set()
    for directory in cgroup_dirs(parent):
        with contextlib.suppress(OSError):
            pids.update(int(p) for p in (directory / "cgroup.procs").read_text().split())
    return sorted(pids)


def remove_cgroups(parent: str) -> None:
    """rmdir works only on an empty cgroup: callers kill its processes first."""
    for directory in cgroup_dirs(parent):
        with contextlib.suppress(OSError):
            directory.rmdir()


def unmount_under(root: Path) -> None:
    """Lazily unmount everything below root, deepest first."""
    prefix = f"{root}/"
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point.startswith(prefix):
            points.append(point)
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], stderr=subprocess.DEVNULL, check=False)
