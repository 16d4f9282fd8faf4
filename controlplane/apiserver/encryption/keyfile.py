"""The configuration file on disk: read the one given, or make the server's own on first start.

The only I/O of the room. Without `--encryption-provider-config` a server
keeps its configuration beside the CA (DATA/tls/encryption.yaml, 0600),
writing it with a fresh 32-byte AES-GCM key the first time, so Secrets are
encrypted from the first start on and plain-text Secrets from before it
stay readable (the `identity` provider comes second).
"""
from __future__ import annotations

import os
import pathlib
from typing import Collection

from controlplane.apiserver.encryption import config, names


def default_path(tls_dir: pathlib.Path) -> pathlib.Path:
    return tls_dir / names.DEFAULT_FILE


def ensure_default(tls_dir: pathlib.Path) -> pathlib.Path:
    """The server's own configuration file, written with a new key if there is none yet."""
    path = default_path(tls_dir)
    if not path.exists():
        tls_dir.mkdir(parents=True, exist_ok=True)
        text = config.render_default(os.urandom(names.DEFAULT_KEY_BYTES))
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)   # never a half-written key file
    return path


def load(path: pathlib.Path, *, known_resources: Collection[str]) -> config.EncryptionConfig:
    """Read and check the file; ConfigError naming the file and the field."""
    try:
        text = path.read_text()
    except OSError as e:
        raise config.ConfigError(f"encryption provider config {path}: {e.strerror}") from None
    try:
        return config.parse(text, known_resources=known_resources)
    except config.ConfigError as e:
        raise config.ConfigError(f"encryption provider config {path}: {e}") from None
