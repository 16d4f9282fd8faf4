"""Writing a set of files into a volume directory so readers never see half of it.

Kubernetes' atomic writer, in small: the files go into a fresh hidden
directory, `..data` is a symlink to it, and each top-level name is a symlink
through `..data`. An update writes a new hidden directory and renames a new
`..data` link over the old one, which is atomic, so a container reading the
volume sees either the old set or the new set, never a mix.

With a pod's fsGroup the files belong to that group and are group-readable,
the directories setgid, as Kubernetes does for its read-only volumes.
"""
import os
import shutil
import tempfile
from pathlib import Path

DATA_LINK = "..data"


GROUP_READ = 0o440


def project(target: Path, files: dict[str, tuple[bytes, int]], *, group: int | None = None) -> bool:
    """Make `target` hold exactly `files` (relative path → (content, mode)), owned by `group` if given;
    True if it changed."""
    if group is not None:
        files = {relative: (content, mode | GROUP_READ) for relative, (content, mode) in files.items()}
    target.mkdir(parents=True, exist_ok=True)
    if _current(target) == files:
        return False
    fresh = Path(tempfile.mkdtemp(prefix="..", dir=target))
    fresh.chmod(0o755)
    for relative, (content, mode) in files.items():
        path = fresh / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode)
    if group is not None:
        _give(target, fresh, group)
    link = target / f"{DATA_LINK}_tmp"
    link.unlink(missing_ok=True)
    link.symlink_to(fresh.name)
    old = os.readlink(target / DATA_LINK) if (target / DATA_LINK).is_symlink() else None
    os.rename(link, target / DATA_LINK)
    tops = {relative.split("/", 1)[0] for relative in files}
    for name in tops:
        if not (target / name).is_symlink():
            (target / name).symlink_to(f"{DATA_LINK}/{name}")
    for entry in target.iterdir():
        if entry.is_symlink() and not entry.name.startswith("..") and entry.name not in tops:
            entry.unlink()
    if old:
        shutil.rmtree(target / old, ignore_errors=True)
    return True


def _give(target: Path, fresh: Path, group: int) -> None:
    """The volume's root, the new hidden directory and everything in it to `group`; directories setgid."""
    for path in (target, fresh, *fresh.rglob("*")):
        os.chown(path, -1, group)
        if path.is_dir():
            path.chmod(0o2755)


def _current(target: Path) -> dict[str, tuple[bytes, int]] | None:
    data = target / DATA_LINK
    if not data.is_dir():
        return None
    found = {}
    for path in data.resolve().rglob("*"):
        if path.is_file():
            found[str(path.relative_to(data.resolve()))] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return found
