"""The server's secrets on disk are private to it, re-checked on every start.

Files are made 0600 when first written, but an operator's `chmod -R`, a
restore from a backup or a copy with the wrong umask can loosen them later,
and any local user could then read the admin token or the CA key. So each
start puts back 0700 on the data directory and its tls/ folder and 0600 on
every file that holds a credential or the store (which holds Secrets), and
says in the log which ones it had to fix.
"""
import logging
import pathlib

log = logging.getLogger(__name__)

# Relative to the data directory (bootstrap.py lists what each one is).
PRIVATE_FILES = ("admin.yaml", "tokens", "node-token", "server-token", "state.db", "state.db-wal", "state.db-shm",
                 "tls/*.key", "tls/etcd/*.key")
PRIVATE_DIRS = (".", "tls", "tls/etcd", "etcd")


def tighten(data_dir: pathlib.Path) -> list[pathlib.Path]:
    """Make `data_dir` if need be, re-tighten the modes under it; the paths that had been loosened."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fixed = [_chmod(data_dir / name, 0o700) for name in PRIVATE_DIRS if (data_dir / name).is_dir()]
    fixed += [_chmod(path, 0o600) for pattern in PRIVATE_FILES for path in sorted(data_dir.glob(pattern))
              if path.is_file()]
    fixed = [path for path in fixed if path]
    if fixed:
        log.warning("re-tightened the modes of %s (they were readable by others)",
                    ", ".join(str(p) for p in fixed))
    return fixed


def _chmod(path: pathlib.Path, mode: int) -> pathlib.Path | None:
    """chmod `path` to `mode` if it allows more; the path if it did."""
    if path.stat().st_mode & 0o777 & ~mode:
        path.chmod(mode)
        return path
    return None
