"""The revisioned key-value store: coxswain's etcd room.

One interface, two backends (`sqlite.SQLiteStore`, the embedded default, and
`etcd.EtcdStore`, a real etcd cluster), one contract test suite
(tests/store/) run against both. Semantics are etcd's, because the API server
is written against them:

- Every successful write gets the next cluster-wide *revision* (an int that
  only grows). A key remembers the revision that created it (create_revision)
  and the one that last changed it (mod_revision).
- Writes are conditional on the key's mod_revision (0 = "must not exist"), which
  is all the API server needs for create-only, update-if-unchanged and
  delete-if-unchanged.
- Reads can be at the latest revision or an older one not yet compacted.
- A watch on a prefix from a revision delivers every change after it, once, in
  revision order, then follows new changes. From a compacted revision it
  raises `CompactedError` so the caller relists.
- Leases expire keys attached to them after a TTL unless kept alive.

Values are opaque bytes (the API server stores serialized protobuf).
"""
from __future__ import annotations

import abc
import dataclasses
from typing import AsyncIterator


class StoreError(Exception):
    """Base of the store's errors."""


class CompactedError(StoreError):
    """The requested revision was compacted away; relist from the latest revision."""

    def __init__(self, requested: int, compacted: int):
        super().__init__(f"revision {requested} has been compacted (compacted up to {compacted})")
        self.requested = requested
        self.compacted = compacted


class FutureRevisionError(StoreError):
    """A read asked for a revision the store has not reached yet."""


class LeaseNotFoundError(StoreError):
    """The lease does not exist (never granted, revoked or expired)."""


class UnavailableError(StoreError):
    """The backend cannot be reached (etcd down, SQLite file gone)."""


@dataclasses.dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    create_revision: int
    mod_revision: int
    version: int = 1        # number of writes since creation, as etcd counts
    lease: int = 0          # lease id the key is attached to, 0 if none
    stale: bool = False     # set by the API server's encryption layer: the stored form is not what a write
                            # would produce now (old key, plain text), so even an unchanged update rewrites it


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """One change seen by a watch.

    PUT carries the new `kv` and, for an update, the previous one in `prev`.
    DELETE carries a `kv` with empty value and mod_revision = the delete's
    revision, and the deleted value in `prev` (so a watcher can still tell what
    was deleted, e.g. to match a label selector).
    PROGRESS carries no key: it says the watch has seen everything up to
    `revision` (etcd's progress notification). Backends send it at least
    whenever `request_progress` is called, and periodically while idle.
    """
    PUT = "PUT"
    DELETE = "DELETE"
    PROGRESS = "PROGRESS"

    type: str
    revision: int
    kv: KeyValue | None = None
    prev: KeyValue | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class RangeResult:
    kvs: list[KeyValue]
    revision: int           # the revision the read was served at
    more: bool              # True if `limit` cut the result short
    count: int              # keys from this page's start to the prefix's end, this page included
                            # (etcd's count; `count - len(kvs)` remain, Kubernetes' remainingItemCount)


@dataclasses.dataclass(frozen=True, slots=True)
class WriteResult:
    """Outcome of a conditional write.

    succeeded: the condition held and the write happened at `revision`.
    Otherwise nothing changed; `current` is the key's current value (None if
    absent) so the caller can report a conflict or retry.
    """
    succeeded: bool
    revision: int           # new revision if succeeded, else the store's current revision
    current: KeyValue | None = None


class Watch(abc.ABC):
    """An open watch: async-iterate it for events; close it when done.

    Iteration raises CompactedError if the watch's history was compacted before
    it was delivered, and UnavailableError if the backend went away; either
    way the caller watches again (from its last revision + 1, or relists).
    """

    @abc.abstractmethod
    def __aiter__(self) -> AsyncIterator[Event]: ...

    @abc.abstractmethod
    async def request_progress(self) -> None:
        """Ask for a PROGRESS event carrying the store's current revision."""

    @abc.abstractmethod
    async def close(self) -> None: ...


class Store(abc.ABC):
    """The interface every backend implements. All methods are coroutines."""

    name: str  # "sqlite" or "etcd"

    # -- reads

    @abc.abstractmethod
    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        """The key's value at `revision` (0 = latest), or None if absent.

        Raises CompactedError / FutureRevisionError as `range` does.
        """

    @abc.abstractmethod
    async def range(self, prefix: str, *, revision: int = 0, limit: int = 0,
                    start_after: str = "") -> RangeResult:
        """Keys beginning with `prefix`, sorted by key, at `revision` (0 = latest).

        `limit` > 0 returns at most that many; `start_after` resumes after that
        key (a continue token carries it with the revision). Raises
        CompactedError for a compacted revision, FutureRevisionError for one not
        reached yet.
        """

    @abc.abstractmethod
    async def current_revision(self) -> int:
        """The revision of the latest write (a consistent read point)."""

    # -- conditional writes

    @abc.abstractmethod
    async def put(self, key: str, value: bytes, *, expect_mod_revision: int | None,
                  lease: int = 0) -> WriteResult:
        """Write `value` if the key's mod_revision equals `expect_mod_revision`.

        0 means "only if the key does not exist" (create); None means
        unconditionally. `lease` attaches the key to a lease
        (LeaseNotFoundError if there is no such lease; nothing is written).
        """

    @abc.abstractmethod
    async def delete(self, key: str, *, expect_mod_revision: int | None = None) -> WriteResult:
        """Delete the key if its mod_revision equals `expect_mod_revision` (None: if it exists).

        Deleting an absent key does not succeed (succeeded=False, current=None).
        """

    # -- watch, compaction

    @abc.abstractmethod
    async def watch(self, prefix: str, *, start_revision: int) -> Watch:
        """Watch `prefix` for every change with revision >= start_revision.

        start_revision = current_revision() + 1 follows only new changes.
        Raises CompactedError (at once or from the first iteration) if
        start_revision is at or below the compacted revision.
        """

    @abc.abstractmethod
    async def compact(self, revision: int) -> None:
        """Forget history before `revision`: older reads and watches fail with CompactedError.

        Reads at `revision` itself still work. Raises CompactedError if history
        is already compacted at or past `revision`, FutureRevisionError if the
        store has not reached it.
        """

    # -- leases

    @abc.abstractmethod
    async def grant_lease(self, ttl_seconds: int) -> int:
        """A new lease id; keys attached to it are deleted ttl seconds after the last keep-alive."""

    @abc.abstractmethod
    async def keep_alive(self, lease: int) -> None:
        """Renew the lease's TTL. LeaseNotFoundError if it expired or was revoked."""

    @abc.abstractmethod
    async def revoke_lease(self, lease: int) -> None:
        """Delete the lease and every key attached to it (as DELETE events)."""

    # -- lifecycle

    @abc.abstractmethod
    async def close(self) -> None: ...


def prefix_end(prefix: bytes) -> bytes:
    """The first key after every key that starts with `prefix` (etcd's range_end).

    b"" means "no upper bound" (the prefix is empty or all 0xff bytes).
    """
    stripped = prefix.rstrip(b"\xff")
    return stripped[:-1] + bytes([stripped[-1] + 1]) if stripped else b""


async def open_store(url: str, *, etcd_tls=None) -> Store:
    """Open a store from a datastore URL.

    sqlite:///var/lib/cox/state.db (or a plain path) -> SQLiteStore
    etcd://host:2379,host2:2379                      -> EtcdStore (over TLS with `etcd_tls`, an etcd.EtcdTLS)
    """
    if url.startswith("etcd://"):
        from controlplane.store.etcd import EtcdStore
        return await EtcdStore.open(url, tls=etcd_tls)
    from controlplane.store.sqlite import SQLiteStore
    path = url.removeprefix("sqlite://")
    return await SQLiteStore.open(path)
