"""Writing a set of files into a volume directory so readers never see half of it.

Kubernetes' atomic writer, in small: the files go into a fresh hidden
directory, `..data` is a symlink to it, and each top-level name is a symlink
through `..data`. An update writes a new hidden directory and renames a new
`..data` link over the old one, which is atomic, so a container reading the
volume sees either the old set or the new set, never a mix.
"""
import os
import shutil
import tempfile
from pathlib import Path

DATA_LINK = "..data"


def project(target: Path, files: dict[str, tuple[bytes, int]]) -> bool:
    """Make `target` hold exactly `files` (relative path → (content, mode)); True if it changed."""
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


def _current(target: Path) -> dict[str, tuple[bytes, int]] | None:
    data = target / DATA_LINK
    if not data.is_dir():
        return None
    found = {}
    for path in data.resolve().rglob("*"):
        if path.is_file():
            found[str(path.relative_to(data.resolve()))] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return found
