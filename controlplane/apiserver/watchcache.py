"""The watch cache: one store watch, served to many clients of every kind.

Kubernetes' "cacher" in small. A `StoreFeed` lists every kind at one revision,
then follows a single store watch on /registry/ and hands each event to its
kind's `WatchCache`, which keeps every current object (decoded for filtering,
serialized once for sending) and a window of recent events. Because one
stream carries every kind in revision order, a write to any kind tells every
cache how far it is current: a List waits only until the feed has passed the
store's current revision, never for a store progress timer (etcd 3.4 answers
progress requests only on its timer). A client's watch replays the window
from its resourceVersion and then follows live events through its own bounded
queue; a client too slow to drain it is cut off (it relists), so one slow
reader never holds the others back.
"""
import asyncio
import collections
import dataclasses
import logging
from typing import AsyncIterator, Callable, Iterable, Protocol

from google.protobuf.message import Message

from controlplane.api.kinds import Kind
from controlplane.apiserver import wire
from controlplane.store import CompactedError, Event, KeyValue, Store

log = logging.getLogger(__name__)

ADDED, MODIFIED, DELETED, BOOKMARK = "ADDED", "MODIFIED", "DELETED", "BOOKMARK"


class Cached:
    """One version of one object: decoded for filters, serialized for responses, and the store's
    key-value it came from (what a write conditional on this version needs; None for a deletion's copy).

    The object is decoded and serialized only when first asked for: a write to a kind nobody
    watches or lists (a kubelet's Lease renewal, with no node lifecycle controller) costs neither.
    """

    __slots__ = ("_message", "value", "revision", "kv", "_obj", "_data")

    def __init__(self, message: type[Message], value: bytes, revision: int, kv: KeyValue | None = None):
        self._message = message
        self.value = value         # as stored: serialized without its resourceVersion
        self.revision = revision
        self.kv = kv
        self._obj: Message | None = None
        self._data: bytes | None = None

    @property
    def obj(self) -> Message:
        if self._obj is None:
            self._obj = self._message.FromString(self.value)
            self._obj.metadata.resource_version = str(self.revision)
        return self._obj

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = self.obj.SerializeToString()
        return self._data


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


class Index(Protocol):
    """Something derived from a kind's objects, kept current change by change rather than recomputed."""

    def rebuild(self, objects: Iterable[Message]) -> None: ...

    def update(self, old: Message | None, new: Message | None) -> None: ...


class WatchCache:
    """One kind's objects, recent changes and watchers, fed by the StoreFeed."""

    def __init__(self, feed: "StoreFeed", kind: Kind, *, history: int = 10_000, queue_size: int = 10_000):
        self.feed = feed
        self.kind = kind
        self._history: collections.deque[Change] = collections.deque(maxlen=history)
        self._queue_size = queue_size
        self._objects: dict[str, Cached] = {}
        self._watchers: set[Watcher] = set()
        self.oldest = 0  # the window holds every change after this revision
        self.changes = 0  # counts loads and changes: what is derived from the contents is stale once it moves
        self._indexes: list[Index] = []
        feed.register(self)

    def add_index(self, index: "Index") -> None:
        """Keep `index` current with every change from now on (it is built from the contents first)."""
        index.rebuild(c.obj for c in self._objects.values())
        self._indexes.append(index)

    @property
    def revision(self) -> int:
        """Everything up to this revision is reflected (the feed's position)."""
        return self.feed.revision

    def load(self, kvs, revision: int) -> None:
        """Replace the contents with a fresh listing at `revision`; watchers must start over."""
        self.close_watchers("watch cache reloaded")
        self._objects = {kv.key: Cached(self.kind.message, kv.value, kv.mod_revision, kv) for kv in kvs}
        self._history.clear()
        self.oldest = revision
        self.changes += 1
        for index in self._indexes:
            index.rebuild(c.obj for c in self._objects.values())

    def close_watchers(self, reason: str) -> None:
        for watcher in list(self._watchers):
            watcher.close(reason)

    def apply(self, event: Event) -> None:
        self.changes += 1
        key = event.kv.key
        old = self._objects.get(key)
        if event.type == Event.PUT:
            new = Cached(self.kind.message, event.kv.value, event.revision, event.kv)
            self._objects[key] = new
            change = Change(event.revision, old, new)
        else:
            self._objects.pop(key, None)
            if old is None:  # deleted before we ever saw it
                old = Cached(self.kind.message, event.prev.value, event.prev.mod_revision)
            change = Change(event.revision, old, None, Cached(self.kind.message, old.value, event.revision))
        for index in self._indexes:
            index.update(old.obj if old else None, change.new.obj if change.new else None)
        if len(self._history) == self._history.maxlen:
            self.oldest = self._history[0].revision
        self._history.append(change)
        for watcher in list(self._watchers):
            watcher.offer(change)

    # -- reads

    def count(self) -> int:
        """How many objects are cached (for apiserver_storage_objects)."""
        return len(self._objects)

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

    def send_bookmarks(self) -> None:
        if not any(w.bookmarks for w in self._watchers):
            return
        marker = self.kind.message()
        marker.metadata.resource_version = str(self.revision)
        data = wire.watch_event(BOOKMARK, marker.SerializeToString())
        for watcher in list(self._watchers):
            if watcher.bookmarks:
                watcher.offer_encoded(data)


class StoreFeed:
    """The one store watch behind every kind's cache."""

    ROOT = "/registry/"

    def __init__(self, store: Store, *, bookmark_seconds: float = 10.0):
        self.store = store
        self._bookmark_seconds = bookmark_seconds
        self._caches: dict[str, WatchCache] = {}   # by plural, the key's second segment
        self._waiters: list[tuple[int, asyncio.Future]] = []
        self._ready = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.revision = 0

    def register(self, cache: WatchCache) -> None:
        self._caches[cache.kind.plural] = cache

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name="store-feed"),
                       asyncio.create_task(self._bookmark_loop(), name="watch-bookmarks")]
        await self._ready.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for cache in self._caches.values():
            cache.close_watchers("server shutting down")

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._list_and_watch()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # store outage or compaction: start over
                log.warning("store feed: %s; relisting", e)
                self._ready.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                delay = 0.1

    async def _list_and_watch(self) -> None:
        revision = await self.store.current_revision()
        for cache in self._caches.values():
            cache.load(await self._list_all(cache.kind.key_prefix(), revision), revision)
        self.revision = revision
        watch = await self.store.watch(self.ROOT, start_revision=revision + 1)
        self._ready.set()
        self._wake_waiters()
        try:
            async for event in watch:
                if event.type != Event.PROGRESS:
                    cache = self._caches.get(event.kv.key.split("/", 3)[2])
                    if cache is not None:
                        cache.apply(event)
                self.revision = max(self.revision, event.revision)
                self._wake_waiters()
        finally:
            await watch.close()

    async def _list_all(self, prefix: str, revision: int) -> list:
        """Every key under `prefix` at `revision`, read in pages so a huge kind is not one giant read."""
        kvs, start_after = [], ""
        while True:
            page = await self.store.range(prefix, revision=revision, limit=1000, start_after=start_after)
            kvs += page.kvs
            if not page.more:
                return kvs
            start_after = page.kvs[-1].key

    def _wake_waiters(self) -> None:
        if not self._waiters:
            return
        keep = []
        for revision, future in self._waiters:
            if self.revision >= revision:
                if not future.done():
                    future.set_result(None)
            else:
                keep.append((revision, future))
        self._waiters = keep

    async def wait_until_fresh(self, revision: int, *, timeout: float = 3.0) -> bool:
        """Wait until every cache reflects `revision`; False if not within `timeout`."""
        if self._ready.is_set() and self.revision >= revision:
            return True
        waiter = (revision, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter[1], timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:  # a waiter given up on must not stay behind until the revision comes, if ever
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def _bookmark_loop(self) -> None:
        while True:
            await asyncio.sleep(self._bookmark_seconds)
            for cache in self._caches.values():
                cache.send_bookmarks()

