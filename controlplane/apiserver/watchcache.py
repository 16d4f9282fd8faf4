"""The watch cache: one store watch per kind, served to many clients.

Kubernetes' "cacher" in small: the cache lists the kind once, then follows one
store watch, keeping every current object (decoded for filtering, serialized
once for sending) and a window of recent events. Lists are answered from
memory once the cache has caught up with the store's current revision; a
client's watch replays the window from its resourceVersion and then follows
live events through its own bounded queue. A client too slow to drain its
queue is cut off (it relists), so one slow reader never holds the others back.
"""
import asyncio
import collections
import dataclasses
import logging
from typing import AsyncIterator, Callable

from google.protobuf.message import Message

from controlplane.api.kinds import Kind
from controlplane.apiserver import wire
from controlplane.store import CompactedError, Event, Store

log = logging.getLogger(__name__)

ADDED, MODIFIED, DELETED, BOOKMARK = "ADDED", "MODIFIED", "DELETED", "BOOKMARK"


@dataclasses.dataclass(slots=True)
class Cached:
    """One version of one object: decoded for filters, serialized for responses."""
    obj: Message
    data: bytes


@dataclasses.dataclass(slots=True)
class Change:
    """A store event as the cache keeps it. `old` is None for a creation, `new` for a deletion."""
    revision: int
    old: Cached | None
    new: Cached | None
    deleted: Cached | None = None  # the deleted object, resourceVersion = the deletion's


Filter = Callable[[Message], bool]


def _match_all(_obj: Message) -> bool:
    return True


class WatchClosed(Exception):
    """The server ended this watch; the client should relist (or re-watch)."""


class Watcher:
    """One client's watch: a filter and a bounded queue of encoded events."""

    def __init__(self, cache: "WatchCache", *, after: int, match: Filter, bookmarks: bool,
                 queue_size: int):
        self._cache = cache
        self._after = after
        self._match = match
        self.bookmarks = bookmarks
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=queue_size)
        self._closed: str | None = None

    def offer(self, change: Change) -> None:
        """Translate a change through this watcher's filter and queue it.

        A filtered watch sees an object enter (ADDED) or leave (DELETED) its
        selection when a change moves it across, as Kubernetes does.
        """
        if change.revision <= self._after or self._closed:
            return
        was = change.old is not None and self._match(change.old.obj)
        if change.new is not None:
            now = self._match(change.new.obj)
            if now:
                self._put(wire.watch_event(MODIFIED if was else ADDED, change.new.data))
            elif was:
                self._put(wire.watch_event(DELETED, change.new.data))
        elif was:
            self._put(wire.watch_event(DELETED, change.deleted.data))

    def offer_encoded(self, data: bytes) -> None:
        if not self._closed:
            self._put(data)

    def _put(self, data: bytes) -> None:
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            self.close("client too slow: watch queue full")

    def close(self, reason: str) -> None:
        if self._closed is None:
            self._closed = reason
            self._cache._watchers.discard(self)
            # Wake the reader even when the queue is full.
            while True:
                try:
                    self._queue.put_nowait(None)
                    break
                except asyncio.QueueFull:
                    self._queue.get_nowait()

    async def events(self) -> AsyncIterator[bytes]:
        try:
            while True:
                data = await self._queue.get()
                if data is None:
                    raise WatchClosed(self._closed)
                yield data
        finally:
            self.close("client went away")


class WatchCache:
    def __init__(self, store: Store, kind: Kind, *, history: int = 10_000,
                 queue_size: int = 10_000, bookmark_seconds: float = 10.0):
        self.store = store
        self.kind = kind
        self._prefix = kind.key_prefix()
        self._history: collections.deque[Change] = collections.deque(maxlen=history)
        self._queue_size = queue_size
        self._bookmark_seconds = bookmark_seconds
        self._objects: dict[str, Cached] = {}
        self._watchers: set[Watcher] = set()
        self._waiters: list[tuple[int, asyncio.Future]] = []
        self._ready = asyncio.Event()
        self._store_watch = None
        self._tasks: list[asyncio.Task] = []
        self.revision = 0        # everything up to here is reflected
        self.oldest = 0          # the window holds every change after this revision

    # -- lifecycle

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name=f"watchcache-{self.kind.plural}"),
                       asyncio.create_task(self._bookmark_loop(), name=f"bookmarks-{self.kind.plural}")]
        await self._ready.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for watcher in list(self._watchers):
            watcher.close("server shutting down")

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._list_and_watch()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # store outage or compaction: start over
                log.warning("watch cache %s: %s; relisting", self.kind.plural, e)
                for watcher in list(self._watchers):
                    watcher.close(f"watch cache restarted: {e}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                delay = 0.1

    async def _list_and_watch(self) -> None:
        self._ready.clear()
        objects: dict[str, Cached] = {}
        start_after = ""
        revision = 0
        while True:  # page through so a huge kind is not one giant read
            page = await self.store.range(self._prefix, revision=revision, limit=1000,
                                          start_after=start_after)
            revision = page.revision
            for kv in page.kvs:
                objects[kv.key] = self._decode(kv.value, kv.mod_revision)
            if not page.more:
                break
            start_after = page.kvs[-1].key
        self._objects = objects
        self._history.clear()
        self.revision = self.oldest = revision
        self._store_watch = await self.store.watch(self._prefix, start_revision=revision + 1)
        self._ready.set()
        self._wake_waiters()
        try:
            async for event in self._store_watch:
                self._apply(event)
        finally:
            await self._store_watch.close()
            self._store_watch = None

    def _decode(self, value: bytes, revision: int) -> Cached:
        obj = self.kind.message.FromString(value)
        obj.metadata.resource_version = str(revision)
        return Cached(obj, obj.SerializeToString())

    def _apply(self, event: Event) -> None:
        if event.type == Event.PROGRESS:
            self.revision = max(self.revision, event.revision)
            self._wake_waiters()
            return
        key = event.kv.key
        old = self._objects.get(key)
        if event.type == Event.PUT:
            new = self._decode(event.kv.value, event.revision)
            self._objects[key] = new
            change = Change(event.revision, old, new)
        else:
            self._objects.pop(key, None)
            if old is None:  # deleted before we ever saw it
                old = self._decode(event.prev.value, event.prev.mod_revision)
            change = Change(event.revision, old, None, self._decode(encode_without_rv(old), event.revision))
        if len(self._history) == self._history.maxlen:
            self.oldest = self._history[0].revision
        self._history.append(change)
        self.revision = event.revision
        for watcher in list(self._watchers):
            watcher.offer(change)
        self._wake_waiters()

    # -- freshness

    def _wake_waiters(self) -> None:
        keep = []
        for revision, future in self._waiters:
            if self.revision >= revision and self._ready.is_set():
                if not future.done():
                    future.set_result(None)
            else:
                keep.append((revision, future))
        self._waiters = keep

    async def wait_until_fresh(self, revision: int, *, timeout: float = 3.0) -> bool:
        """Wait until the cache reflects `revision`; False if it did not within `timeout`."""
        if self._ready.is_set() and self.revision >= revision:
            return True
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((revision, future))
        if self._store_watch is not None:
            await self._store_watch.request_progress()
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except asyncio.TimeoutError:
            return False

    # -- reads

    def get(self, key: str) -> Cached | None:
        return self._objects.get(key)

    def list(self, *, namespace: str = "", match: Filter = _match_all) -> list[Cached]:
        """Current objects in key order, filtered."""
        prefix = self.kind.key_prefix(namespace)
        keys = sorted(k for k in self._objects if k.startswith(prefix)) if namespace else sorted(self._objects)
        return [c for c in (self._objects[k] for k in keys) if match(c.obj)]

    def watch(self, *, resource_version: int, match: Filter, bookmarks: bool) -> Watcher:
        """A watcher that first replays what a client at `resource_version` has not seen.

        resource_version 0: every current object as ADDED, then changes.
        Otherwise: the changes after it; CompactedError if the window no
        longer reaches back that far.
        """
        if resource_version and resource_version < self.oldest:
            raise CompactedError(resource_version, self.oldest)
        watcher = Watcher(self, after=resource_version or self.revision, match=match,
                          bookmarks=bookmarks, queue_size=self._queue_size)
        if resource_version == 0:
            for cached in self.list(match=match):
                watcher.offer_encoded(wire.watch_event(ADDED, cached.data))
        else:
            for change in self._history:
                watcher.offer(change)
        self._watchers.add(watcher)
        return watcher

    async def _bookmark_loop(self) -> None:
        while True:
            await asyncio.sleep(self._bookmark_seconds)
            if not self._watchers:
                continue
            marker = self.kind.message()
            marker.metadata.resource_version = str(self.revision)
            data = wire.watch_event(BOOKMARK, marker.SerializeToString())
            for watcher in list(self._watchers):
                if watcher.bookmarks:
                    watcher.offer_encoded(data)


def encode_without_rv(cached: Cached) -> bytes:
    """The object's bytes with its resourceVersion cleared, ready to re-stamp."""
    obj = type(cached.obj)()
    obj.CopyFrom(cached.obj)
    obj.metadata.resource_version = ""
    return obj.SerializeToString()
