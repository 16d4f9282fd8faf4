"""Encryption at rest: the values of chosen resources (Secrets by default) stored encrypted.

Kubernetes' EncryptionConfiguration, in small. `config` parses the file,
`transformer` encrypts and decrypts one value with its prefix naming provider
and key, `store` wraps the backend so everything above it sees plain values,
`keyfile` reads the file or makes the server's own. README.md has the contract.
"""
from controlplane.apiserver.encryption import keyfile
from controlplane.apiserver.encryption.config import ConfigError, EncryptionConfig
from controlplane.apiserver.encryption.store import EncryptingStore


def open_config(path, *, tls_dir, known_resources) -> EncryptionConfig:
    """The configuration from `path`, or the server's own beside the CA when `path` is None."""
    return keyfile.load(path or keyfile.ensure_default(tls_dir), known_resources=known_resources)


__all__ = ["ConfigError", "EncryptionConfig", "EncryptingStore", "open_config"]
