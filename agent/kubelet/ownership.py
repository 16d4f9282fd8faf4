"""A pod's fsGroup on its writable volumes: the group owns them, and what is made in them later.

As Kubernetes' SetVolumeOwnership: every file and directory of the volume gets
the group fsGroup and group read-write, directories also the setgid bit, so
files a container creates later inherit the group. The container's processes
have fsGroup as a supplementary group (security.py), so a non-root user can
write there. fsGroupChangePolicy OnRootMismatch skips the walk when the
volume's root already has that group, mode and bit (a big volume is not
walked at every start); Always (the default) walks it every time the volume
is set up. The atomic writer applies the group to the files it projects
itself (projection.py). Blocking: run it in a worker thread.
"""
import os
import stat
from pathlib import Path

ON_ROOT_MISMATCH = "OnRootMismatch"
_READ_WRITE = 0o660
_SEARCH = 0o110   # directories: owner and group may enter them


def set_ownership(root: Path, group: int, *, policy: str = "") -> None:
    """Give `root` and everything under it to `group` (see the module docstring)."""
    if policy == ON_ROOT_MISMATCH and _matches(root, group):
        return
    _own(root, group)
    for parent, directories, files in os.walk(root):
        for name in (*directories, *files):
            _own(Path(parent) / name, group)


def _matches(path: Path, group: int) -> bool:
    info = path.stat()
    return info.st_gid == group and info.st_mode & (_READ_WRITE | stat.S_ISGID) == _READ_WRITE | stat.S_ISGID


def _own(path: Path, group: int) -> None:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return   # a symlink's target is owned where it lives, inside the volume or not at all
    if info.st_gid != group:
        os.chown(path, -1, group)
    mode = stat.S_IMODE(info.st_mode) | _READ_WRITE | (stat.S_ISGID | _SEARCH if stat.S_ISDIR(info.st_mode) else 0)
    if mode != stat.S_IMODE(info.st_mode):
        os.chmod(path, mode)
