"""The store as the API server sees it: plaintext above, ciphertext below.

`EncryptingStore` wraps any backend and is the one place values are
transformed: writes under a configured resource's prefix are encrypted,
every read (get, range, watch events, a failed write's current value) is
decrypted, so the registry, the watch cache, List, Watch, Get and
compare-and-swap all see serialized protobuf, and the backend (SQLite file,
etcd values and their history) only ciphertext. Revisions, leases and
conditions pass through untouched.

A value that cannot be decrypted (a key dropped too early, another server's
key) fails a Get with INTERNAL naming the key; lists and watches leave it
out and log it, so one unreadable Secret does not stop the server.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import AsyncIterator

import grpc

from controlplane.apiserver.encryption.config import EncryptionConfig
from controlplane.apiserver.encryption.transformer import DecryptError, Transformer
from controlplane.apiserver.errors import ApiError
from controlplane.store import Event, KeyValue, RangeResult, Store, Watch, WriteResult

log = logging.getLogger(__name__)

_ROOT = "/registry/"


class EncryptingStore(Store):
    def __init__(self, backend: Store, config: EncryptionConfig, *, resources):
        self.backend = backend
        self.name = backend.name
        # By key prefix, e.g. "/registry/secrets/" -> its transformer.
        self._transformers = {f"{_ROOT}{r}/": Transformer(config.providers_for(r))
                              for r in resources if config.providers_for(r)}

    def _transformer(self, key: str) -> Transformer | None:
        if not key.startswith(_ROOT):
            return None
        return self._transformers.get(key[:key.find("/", len(_ROOT)) + 1])

    def _open(self, kv: KeyValue | None) -> KeyValue | None:
        """The kv with its value decrypted (DecryptError if it cannot be)."""
        if kv is None or not kv.value:
            return kv
        transformer = self._transformer(kv.key)
        if transformer is None:
            return kv
        plaintext, stale = transformer.decrypt(kv.key, kv.value)
        return dataclasses.replace(kv, value=plaintext, stale=stale)

    def _open_or_none(self, kv: KeyValue | None) -> KeyValue | None:
        try:
            return self._open(kv)
        except DecryptError as e:
            log.error("leaving out an unreadable value: %s", e)
            return None

    def _open_strict(self, kv: KeyValue | None) -> KeyValue | None:
        try:
            return self._open(kv)
        except DecryptError as e:
            raise ApiError(grpc.StatusCode.INTERNAL, f"cannot decrypt the stored value: {e}") from None

    # -- reads

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        return self._open_strict(await self.backend.get(key, revision=revision))

    async def range(self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = "") -> RangeResult:
        while True:
            result = await self.backend.range(prefix, revision=revision, limit=limit, start_after=start_after)
            kvs = [kv for kv in map(self._open_or_none, result.kvs) if kv is not None]
            if kvs or not result.more:   # a page of nothing but unreadable values would end a pager: read on
                return dataclasses.replace(result, kvs=kvs)
            revision, start_after = result.revision, result.kvs[-1].key

    async def current_revision(self) -> int:
        return await self.backend.current_revision()

    # -- writes

    async def put(self, key: str, value: bytes, *, expect_mod_revision: int | None, lease: int = 0) -> WriteResult:
        transformer = self._transformer(key)
        stored = transformer.encrypt(key, value) if transformer else value
        return self._result(await self.backend.put(key, stored, expect_mod_revision=expect_mod_revision,
                                                   lease=lease))

    async def delete(self, key: str, *, expect_mod_revision: int | None = None) -> WriteResult:
        return self._result(await self.backend.delete(key, expect_mod_revision=expect_mod_revision))

    def _result(self, result: WriteResult) -> WriteResult:
        if result.current is None:
            return result
        return dataclasses.replace(result, current=self._open_strict(result.current))

    # -- watch, compaction, leases: values pass through decrypted, the rest untouched

    async def watch(self, prefix: str, *, start_revision: int) -> Watch:
        return _DecryptingWatch(self, await self.backend.watch(prefix, start_revision=start_revision))

    async def compact(self, revision: int) -> None:
        await self.backend.compact(revision)

    async def grant_lease(self, ttl_seconds: int) -> int:
        return await self.backend.grant_lease(ttl_seconds)

    async def keep_alive(self, lease: int) -> None:
        await self.backend.keep_alive(lease)

    async def revoke_lease(self, lease: int) -> None:
        await self.backend.revoke_lease(lease)

    async def close(self) -> None:
        await self.backend.close()


class _DecryptingWatch(Watch):
    def __init__(self, store: EncryptingStore, inner: Watch):
        self._store = store
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[Event]:
        async for event in self._inner:
            if event.type == Event.PROGRESS:
                yield event
                continue
            kv = self._store._open_or_none(event.kv)
            prev = self._store._open_or_none(event.prev)
            if kv is None or (event.type == Event.DELETE and prev is None):
                continue
            yield event if kv is event.kv and prev is event.prev else dataclasses.replace(event, kv=kv, prev=prev)

    async def request_progress(self) -> None:
        await self._inner.request_progress()

    async def close(self) -> None:
        await self._inner.close()
