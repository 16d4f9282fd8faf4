"""SQLiteStore: the embedded store, one SQLite file in WAL mode.

Why a log table. Every write appends one row to `log`; the row's primary key
*is* the write's revision, and the row carries everything etcd's MVCC keeps
per revision (key, value, create revision, version, lease, a deleted flag, and
the revision of the value it replaced). The current value of a key is its
newest row; the value at revision R is its newest row <= R; a watch from R is a
range scan of the log from R. So "revisions are shared by all keys and only
grow", "read at an older revision" and "watch from a revision" all fall out of
one table and one index (the idea of k3s' kine). Compaction deletes the rows
that no read at or after the compact revision can see, and records that
revision in `meta`.

Why one writer thread with group commit. SQLite has one writer at a time, and
a durable commit costs an fsync. Callers put their writes on a queue; a single
writer thread takes everything queued, applies the writes in order inside one
transaction (each conditional check sees the writes before it in the same
batch), and commits once. 64 concurrent writers then cost a handful of fsyncs,
not 64. `commits` and `writes` count both, so tests and benchmarks can see it.

Durability: `synchronous=FULL`, so COMMIT returns only after the WAL is
fsynced and an acknowledged write survives power loss, as in etcd. (NORMAL
would be enough for a kill -9 of this process, because a committed WAL frame
is already in the kernel's page cache, but not for a kernel crash or power
cut; with group commit FULL costs little.) Writes are acknowledged only after
COMMIT.

After each commit the writer hands the batch to the event loop in one
callback, which resolves the writers' futures, advances the store's revision
and fans the events out to in-process watches. Reads run on their own
connections in worker threads and never read past that published revision, so
a reader never sees a write that has not been acknowledged.

A watch registers for live events first and then replays the log up to the
revision at which it registered, so history and live events meet with no gap
and no duplicate; a watch that falls too far behind drops its buffer and
replays from the log again (etcd's "unsynced" watchers). PROGRESS events go to
every watch that was idle for `progress_interval` seconds and to a watch on
request_progress.

Leases live in their own table with a wall-clock expiry (so they survive a
restart); a task reaps expired leases through the writer, deleting their keys
with ordinary DELETE events.
"""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import fcntl
import logging
import os
import queue
import sqlite3
import threading
import time
from typing import AsyncIterator

from controlplane.store import (CompactedError, Event, FutureRevisionError, KeyValue,
                                LeaseNotFoundError, RangeResult, Store, StoreError,
                                UnavailableError, Watch, WriteResult, prefix_end)

SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    rev        INTEGER PRIMARY KEY,  -- the write's revision
    key        BLOB NOT NULL,
    value      BLOB NOT NULL,        -- empty for a delete
    create_rev INTEGER NOT NULL,     -- 0 for a delete
    prev_rev   INTEGER NOT NULL,     -- revision of the value this write replaced, 0 if none
    version    INTEGER NOT NULL,     -- 0 for a delete
    lease      INTEGER NOT NULL,
    deleted    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key ON log (key, rev);
CREATE INDEX IF NOT EXISTS log_lease ON log (lease) WHERE lease != 0;
CREATE TABLE IF NOT EXISTS leases (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    ttl     INTEGER NOT NULL,
    expires REAL NOT NULL            -- unix time
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

MAX_BATCH = 512            # writes per group commit
WATCH_BUFFER = 10_000      # live events a watch may hold before it falls back to the log
HISTORY_PAGE = 1_000       # log rows a catching-up watch reads at a time
LEASE_REAP_INTERVAL = 0.25

log = logging.getLogger(__name__)


def _kv(key: bytes, value: bytes, create_rev: int, rev: int, version: int, lease: int) -> KeyValue:
    return KeyValue(key.decode(), value, create_rev, rev, version, lease)


def _tombstone(key: bytes, rev: int) -> KeyValue:
    """A DELETE event's kv, shaped as etcd sends it."""
    return KeyValue(key.decode(), b"", 0, rev, 0, 0)


def _write_error(e: Exception) -> Exception:
    """What a failed commit tells its writers: SQLite's own errors as the store's, a full disk by name."""
    if not isinstance(e, sqlite3.Error):
        return e
    if getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return UnavailableError(f"disk full: sqlite write failed: {e}")
    return UnavailableError(f"sqlite write failed: {e}")


def _key_range(prefix: str) -> tuple[bytes, bytes]:
    lo = prefix.encode()
    return lo, prefix_end(lo)


class _Txn:
    """The writer's view of one group-commit transaction: reads see the batch's earlier writes."""

    def __init__(self, db: sqlite3.Connection, revision: int):
        self.db = db
        self.revision = revision
        self.events: list[Event] = []

    def current(self, key: bytes) -> KeyValue | None:
        row = self.db.execute("SELECT value, create_rev, rev, version, lease, deleted FROM log "
                              "WHERE key = ? ORDER BY rev DESC LIMIT 1", (key,)).fetchone()
        return None if row is None or row[5] else _kv(key, *row[:5])

    def _append(self, key: bytes, value: bytes, create_rev: int, prev: KeyValue | None,
                version: int, lease: int, deleted: bool) -> int:
        self.revision += 1
        self.db.execute("INSERT INTO log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (self.revision, key, value, create_rev, prev.mod_revision if prev else 0,
                         version, lease, deleted))
        return self.revision

    def put(self, key: bytes, value: bytes, prev: KeyValue | None, lease: int) -> int:
        rev = self.revision + 1
        create_rev, version = (prev.create_revision, prev.version + 1) if prev else (rev, 1)
        self._append(key, value, create_rev, prev, version, lease, False)
        self.events.append(Event(Event.PUT, rev, _kv(key, value, create_rev, rev, version, lease), prev))
        return rev

    def delete(self, key: bytes, prev: KeyValue) -> int:
        rev = self._append(key, b"", 0, prev, 0, 0, True)
        self.events.append(Event(Event.DELETE, rev, _tombstone(key, rev), prev))
        return rev

    def lease_alive(self, lease: int, now: float) -> bool:
        return self.db.execute("SELECT 1 FROM leases WHERE id = ? AND expires > ?",
                               (lease, now)).fetchone() is not None

    def drop_lease(self, lease: int) -> None:
        """Delete the lease and the keys whose current value is attached to it."""
        keys = self.db.execute(
            "SELECT key FROM log l WHERE lease = ? AND lease != 0 AND deleted = 0 AND "  # != 0: use log_lease
            "rev = (SELECT MAX(rev) FROM log WHERE key = l.key) ORDER BY key", (lease,)).fetchall()
        for (key,) in keys:
            self.delete(key, self.current(key))
        self.db.execute("DELETE FROM leases WHERE id = ?", (lease,))


# -- write operations, run by the writer thread inside a _Txn; they raise only before changing anything

def _op_put(tx: _Txn, key: bytes, value: bytes, expect: int | None, lease: int) -> WriteResult:
    cur = tx.current(key)
    if expect is not None and (cur.mod_revision if cur else 0) != expect:
        return WriteResult(False, tx.revision, cur)
    if lease and not tx.lease_alive(lease, time.time()):
        raise LeaseNotFoundError(f"lease {lease} not found")
    return WriteResult(True, tx.put(key, value, cur, lease))


def _op_delete(tx: _Txn, key: bytes, expect: int | None) -> WriteResult:
    cur = tx.current(key)
    if cur is None or (expect is not None and cur.mod_revision != expect):
        return WriteResult(False, tx.revision, cur)
    return WriteResult(True, tx.delete(key, cur))


def _op_compact(tx: _Txn, revision: int) -> int:
    compacted = tx.db.execute("SELECT value FROM meta WHERE name = 'compacted'").fetchone()
    compacted = compacted[0] if compacted else 0
    if revision <= compacted:
        raise CompactedError(revision, compacted)
    if revision > tx.revision:
        raise FutureRevisionError(f"revision {revision} is ahead of the store ({tx.revision})")
    # Keep, for every key, its newest row at or below `revision` unless that row is a delete:
    # exactly what reads at `revision` or later can see.
    tx.db.execute("DELETE FROM log WHERE rev < :c AND (deleted = 1 OR EXISTS ("
                  "SELECT 1 FROM log n WHERE n.key = log.key AND n.rev > log.rev AND n.rev <= :c))",
                  {"c": revision})
    tx.db.execute("INSERT OR REPLACE INTO meta VALUES ('compacted', ?)", (revision,))
    return revision


def _op_grant(tx: _Txn, ttl: int) -> int:
    return tx.db.execute("INSERT INTO leases (ttl, expires) VALUES (?, ?)",
                         (ttl, time.time() + ttl)).lastrowid


def _op_keep_alive(tx: _Txn, lease: int) -> None:
    now = time.time()
    if tx.db.execute("UPDATE leases SET expires = ? + ttl WHERE id = ? AND expires > ?",
                     (now, lease, now)).rowcount == 0:
        raise LeaseNotFoundError(f"lease {lease} not found")


def _op_revoke(tx: _Txn, lease: int) -> None:
    if not tx.lease_alive(lease, time.time()):
        raise LeaseNotFoundError(f"lease {lease} not found")
    tx.drop_lease(lease)


def _op_reap_leases(tx: _Txn) -> None:
    for (lease,) in tx.db.execute("SELECT id FROM leases WHERE expires <= ?", (time.time(),)).fetchall():
        tx.drop_lease(lease)


# -- reads, run in worker threads, each in one read transaction (one snapshot)

def _compacted(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM meta WHERE name = 'compacted'").fetchone()
    return row[0] if row else 0


def _check_not_compacted(db: sqlite3.Connection, revision: int) -> None:
    compacted = _compacted(db)
    if revision < compacted:
        raise CompactedError(revision, compacted)


def _read_get(db: sqlite3.Connection, key: bytes, revision: int) -> KeyValue | None:
    _check_not_compacted(db, revision)
    row = db.execute("SELECT value, create_rev, rev, version, lease, deleted FROM log "
                     "WHERE key = ? AND rev <= ? ORDER BY rev DESC LIMIT 1", (key, revision)).fetchone()
    return None if row is None or row[5] else _kv(key, *row[:5])


# Newest row per key at or below :rev, in [:lo, :hi) and after :after (SQLite takes the bare
# columns of a MAX() aggregate from the row that has the maximum).
_LATEST_IN_RANGE = ("SELECT key, value, create_rev, MAX(rev) AS rev, version, lease, deleted FROM log "
                    "WHERE key >= :lo AND (:hi = x'' OR key < :hi) AND key > :after AND rev <= :rev "
                    "GROUP BY key")


def _read_range(db: sqlite3.Connection, lo: bytes, hi: bytes, after: bytes, revision: int,
                limit: int) -> tuple[list[KeyValue], int]:
    _check_not_compacted(db, revision)
    args = {"lo": lo, "hi": hi, "after": after, "rev": revision, "limit": limit or -1}
    rows = db.execute(f"SELECT * FROM ({_LATEST_IN_RANGE}) WHERE deleted = 0 ORDER BY key LIMIT :limit",
                      args).fetchall()
    count = db.execute(f"SELECT COUNT(*) FROM ({_LATEST_IN_RANGE}) WHERE deleted = 0", args).fetchone()[0]
    return [_kv(*row[:6]) for row in rows], count


def _read_history(db: sqlite3.Connection, lo: bytes, hi: bytes, first: int,
                  last: int) -> tuple[list[Event], int]:
    """Events for keys in [lo, hi) with revisions in [first, last], at most a page of them.

    Returns the events and the revision the page reaches (the caller goes on from there + 1).
    """
    compacted = _compacted(db)
    if first <= compacted:
        raise CompactedError(first, compacted)
    rows = db.execute(
        "SELECT l.rev, l.key, l.value, l.create_rev, l.version, l.lease, l.deleted, "
        "       p.value, p.create_rev, p.rev, p.version, p.lease "
        "FROM log l LEFT JOIN log p ON p.rev = l.prev_rev "
        "WHERE l.rev BETWEEN ? AND ? AND l.key >= ? AND (? = x'' OR l.key < ?) ORDER BY l.rev LIMIT ?",
        (first, last, lo, hi, hi, HISTORY_PAGE)).fetchall()
    events = []
    for rev, key, value, create_rev, version, lease, deleted, *prev in rows:
        prev_kv = _kv(key, *prev) if prev[0] is not None else None
        if deleted:
            events.append(Event(Event.DELETE, rev, _tombstone(key, rev), prev_kv))
        else:
            events.append(Event(Event.PUT, rev, _kv(key, value, create_rev, rev, version, lease), prev_kv))
    reached = rows[-1][0] if len(rows) == HISTORY_PAGE else last
    return events, reached


def _connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout = 10000")
    return db


class SQLiteWatch(Watch):
    """A watch fed by the store's publisher on the event loop, backed by the log for catch-up.

    Events with revision <= `_history_until` are read from the log (from `_loaded` + 1);
    `_buffer` holds what was published after that, to be delivered once the log is read.
    """

    def __init__(self, store: "SQLiteStore", prefix: str, start_revision: int):
        self._store = store
        self.prefix = prefix
        self._range = _key_range(prefix)
        self._loaded = start_revision - 1
        self._history_until = max(store._revision, start_revision - 1)
        self._replay: collections.deque[Event] = collections.deque()
        self._buffer: collections.deque[Event] = collections.deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self.idle = True   # nothing offered since the last progress tick

    def offer(self, event: Event) -> None:
        """Called on the loop by the publisher, in revision order."""
        self.idle = False
        if event.type != Event.PROGRESS and event.revision <= self._history_until:
            return  # the log replay covers it
        self._buffer.append(event)
        if len(self._buffer) > WATCH_BUFFER:  # too slow: forget the buffer, replay it from the log
            self._buffer.clear()
            self._history_until = self._store._revision
        self._wakeup.set()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._replay:
                return self._replay.popleft()
            if self._loaded < self._history_until:
                events, self._loaded = await self._store._read(
                    _read_history, *self._range, self._loaded + 1, self._history_until)
                self._replay.extend(events)
                continue
            if self._buffer:
                return self._buffer.popleft()
            self._wakeup.clear()
            await self._wakeup.wait()

    async def request_progress(self) -> None:
        self.offer(Event(Event.PROGRESS, self._store._revision))

    async def close(self) -> None:
        self._closed = True
        self._wakeup.set()
        watches = self._store._watches.get(self.prefix, set())
        watches.discard(self)
        if not watches:
            self._store._watches.pop(self.prefix, None)


class SQLiteStore(Store):
    name = "sqlite"

    def __init__(self, path: str, *, progress_interval: float):
        self.path = path
        self.progress_interval = progress_interval
        self.commits = 0    # transactions committed by the writer
        self.writes = 0     # write operations they carried
        self._loop = asyncio.get_running_loop()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._watches: dict[str, set[SQLiteWatch]] = collections.defaultdict(set)
        self._revision = 0   # newest revision published (committed and acknowledged)
        self._compacted = 0
        self._closed = False
        self._lock_fd = -1
        self._db: sqlite3.Connection | None = None   # the writer's connection
        self._read_conns: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._readers = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="sqlite-read")
        self._writer = threading.Thread(target=self._write_loop, name="sqlite-write", daemon=True)
        self._tasks: list[asyncio.Task] = []

    @classmethod
    async def open(cls, path: str, *, progress_interval: float = 1.0) -> "SQLiteStore":
        store = cls(path, progress_interval=progress_interval)
        try:
            await asyncio.to_thread(store._open_file)
        except BaseException:
            await store.close()
            raise
        store._writer.start()
        store._tasks = [asyncio.create_task(store._tick_progress()),
                        asyncio.create_task(store._reap_leases())]
        return store

    def _open_file(self) -> None:
        self._lock_fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"{self.path} is in use by another process") from None
        # Created private (SQLite would make it 0644, and its -wal and -shm files follow it): it holds Secrets.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        self._db = _connect(self.path)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.executescript(SCHEMA)
        self._revision = self._db.execute("SELECT COALESCE(MAX(rev), 0) FROM log").fetchone()[0]
        self._compacted = _compacted(self._db)

    # -- the writer thread

    async def _submit(self, op, *args):
        if self._closed:
            raise UnavailableError("store is closed")
        future = self._loop.create_future()
        self._queue.put((op, args, future))
        return await future

    def _write_loop(self) -> None:
        revision = self._revision
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH and batch[-1] is not None:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = batch[-1] is None
            if stop:
                batch.pop()
            if batch:
                revision = self._commit(batch, revision)
            if stop:
                self._db.close()
                return

    def _commit(self, batch: list, revision: int) -> int:
        tx = _Txn(self._db, revision)
        outcomes = []
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for op, args, future in batch:
                try:
                    outcomes.append((future, op(tx, *args), None))
                except StoreError as e:
                    outcomes.append((future, None, e))
            self._db.execute("COMMIT")
        except Exception as e:  # the whole batch fails and nothing of it is kept
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            error = _write_error(e)
            outcomes = [(future, None, error) for _, _, future in batch]
            tx = _Txn(self._db, revision)
        self.commits += 1
        self.writes += len(batch)
        self._loop.call_soon_threadsafe(self._publish, outcomes, tx.events, tx.revision)
        return tx.revision

    def _publish(self, outcomes: list, events: list[Event], revision: int) -> None:
        """On the loop, in commit order: acknowledge the batch and fan its events out."""
        self._revision = revision
        for future, result, error in outcomes:
            if future.done():
                continue  # the caller was cancelled; the write stands
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)
        for event in events:
            for prefix, watches in self._watches.items():
                if event.kv.key.startswith(prefix):
                    for watch in watches:
                        watch.offer(event)

    # -- reads

    def _read_conn(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = _connect(self.path)
            db.execute("PRAGMA query_only = 1")
            self._read_conns.append(db)
        return db

    def _in_snapshot(self, fn, *args):
        db = self._read_conn()
        db.execute("BEGIN")
        try:
            return fn(db, *args)
        finally:
            db.execute("COMMIT")

    async def _read(self, fn, *args):
        if self._closed:
            raise UnavailableError("store is closed")
        return await self._loop.run_in_executor(self._readers, self._in_snapshot, fn, *args)

    def _read_revision(self, revision: int) -> int:
        if revision > self._revision:
            raise FutureRevisionError(f"revision {revision} is ahead of the store ({self._revision})")
        return revision or self._revision

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        return await self._read(_read_get, key.encode(), self._read_revision(revision))

    async def range(self, prefix: str, *, revision: int = 0, limit: int = 0,
                    start_after: str = "") -> RangeResult:
        revision = self._read_revision(revision)
        kvs, count = await self._read(_read_range, *_key_range(prefix), start_after.encode(),
                                      revision, limit)
        return RangeResult(kvs, revision, count > len(kvs), count)

    async def current_revision(self) -> int:
        return self._revision

    # -- writes

    async def put(self, key: str, value: bytes, *, expect_mod_revision: int | None,
                  lease: int = 0) -> WriteResult:
        return await self._submit(_op_put, key.encode(), bytes(value), expect_mod_revision, lease)

    async def delete(self, key: str, *, expect_mod_revision: int | None = None) -> WriteResult:
        return await self._submit(_op_delete, key.encode(), expect_mod_revision)

    async def compact(self, revision: int) -> None:
        self._compacted = await self._submit(_op_compact, revision)

    # -- watches

    async def watch(self, prefix: str, *, start_revision: int) -> SQLiteWatch:
        if start_revision <= self._compacted:
            raise CompactedError(start_revision, self._compacted)
        watch = SQLiteWatch(self, prefix, start_revision)
        self._watches[prefix].add(watch)
        return watch

    async def _tick_progress(self) -> None:
        while True:
            await asyncio.sleep(self.progress_interval)
            for watches in self._watches.values():
                for watch in watches:
                    if watch.idle:
                        watch.offer(Event(Event.PROGRESS, self._revision))
                    watch.idle = True

    # -- leases

    async def grant_lease(self, ttl_seconds: int) -> int:
        return await self._submit(_op_grant, ttl_seconds)

    async def keep_alive(self, lease: int) -> None:
        await self._submit(_op_keep_alive, lease)

    async def revoke_lease(self, lease: int) -> None:
        await self._submit(_op_revoke, lease)

    async def _reap_leases(self) -> None:
        while True:
            await asyncio.sleep(LEASE_REAP_INTERVAL)
            try:
                await self._submit(_op_reap_leases)
            except StoreError as e:  # try again next round
                log.warning("reaping expired leases failed: %s", e)

    # -- lifecycle

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for watches in list(self._watches.values()):
            for watch in list(watches):
                await watch.close()
        if self._writer.is_alive():
            self._queue.put(None)  # the writer commits what is queued before it, then closes _db
            await asyncio.to_thread(self._writer.join)
        elif self._db is not None:
            self._db.close()
        self._readers.shutdown(wait=True)
        for db in self._read_conns:
            db.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
