"""Encrypt and decrypt one stored value: bytes in, bytes out, no I/O.

A `Transformer` holds one resource's ordered providers. `encrypt` uses the
first provider's first key; `decrypt` picks the provider and key that the
value's prefix names (a value without the prefix is plain text, readable only
if `identity` is listed), and says whether the value is *stale*: stored in
some other form than a write would now produce. The registry rewrites a stale
value even when the object is unchanged, which is how a rotation re-encrypts.

The store key is the AEAD's associated data: a ciphertext copied to another
key fails authentication instead of reading as that key's object.
"""
from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from controlplane.apiserver.encryption import names
from controlplane.apiserver.encryption.config import ProviderSpec

_CIPHERS = {names.AESGCM: AESGCM, names.CHACHA20POLY1305: ChaCha20Poly1305}


class DecryptError(Exception):
    """A stored value this configuration cannot read; the message names the key and why."""


def value_prefix(provider: str, key_name: str) -> bytes:
    return names.PREFIX + b":".join((provider.encode(), names.FORMAT_VERSION, key_name.encode())) + b":"


class Transformer:
    """The providers of one resource, ready to use (AEAD objects built once)."""

    def __init__(self, providers: tuple[ProviderSpec, ...]):
        self._first = providers[0]
        self._identity = any(p.type == names.IDENTITY for p in providers)
        # (provider, key name) -> cipher; the first key of the first provider is the one that writes.
        self._ciphers = {(p.type, k.name): _CIPHERS[p.type](k.secret)
                         for p in providers if p.type != names.IDENTITY for k in p.keys}
        self._writer = (None if self._first.type == names.IDENTITY
                        else (self._first.type, self._first.keys[0].name))

    def encrypt(self, store_key: str, plaintext: bytes) -> bytes:
        if self._writer is None:
            return plaintext
        nonce = os.urandom(names.NONCE_BYTES)
        sealed = self._ciphers[self._writer].encrypt(nonce, plaintext, store_key.encode())
        return value_prefix(*self._writer) + nonce + sealed

    def decrypt(self, store_key: str, stored: bytes) -> tuple[bytes, bool]:
        """(plaintext, stale) or DecryptError."""
        if not stored.startswith(names.PREFIX):
            if not self._identity:
                raise DecryptError(f"{store_key}: stored in plain text, and the encryption configuration "
                                   f"lists no identity provider to read it")
            return stored, self._writer is not None
        provider, version, key_name, body = _split(store_key, stored)
        cipher = self._ciphers.get((provider, key_name))
        if cipher is None or version != names.FORMAT_VERSION.decode():
            raise DecryptError(f'{store_key}: encrypted by {provider} {version} with key "{key_name}", which the '
                               f"encryption configuration does not have")
        nonce, sealed = body[:names.NONCE_BYTES], body[names.NONCE_BYTES:]
        try:
            plaintext = cipher.decrypt(nonce, sealed, store_key.encode())
        except InvalidTag:
            raise DecryptError(f'{store_key}: fails authentication with {provider} key "{key_name}" (altered, '
                               f"or written under another key)") from None
        return plaintext, (provider, key_name) != self._writer


def _split(store_key: str, stored: bytes) -> tuple[str, str, str, bytes]:
    parts = stored[len(names.PREFIX):].split(b":", 3)
    if len(parts) != 4:
        raise DecryptError(f"{store_key}: malformed encrypted value (no provider:version:key: prefix)")
    provider, version, key_name, body = parts
    return provider.decode(errors="replace"), version.decode(errors="replace"), key_name.decode(errors="replace"), body
