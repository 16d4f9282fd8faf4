"""Informers: a kind's objects kept current in memory, with change handlers.

The loop every component runs, written once: list (remember the revision),
watch from that revision, apply each event to a local cache and call the
handlers; when the server says the revision is gone, list again and hand the
difference to the handlers as adds, updates and deletes, so nothing is missed
or told twice. Connection loss is retried with back-off from the last
revision seen. Handlers are plain functions called in the informer's task:
keep them quick (typically: put a key on a work queue).

`InformerFactory` shares one informer per (kind, selectors), so a process
with many controllers opens one watch per kind.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable, Hashable

from google.protobuf.message import Message

from controlplane.client import errors
from controlplane.client.client import Client, Resource

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped kinds


def key_of(obj: Message) -> Key:
    return obj.metadata.namespace, obj.metadata.name


class Informer:
    def __init__(self, resource: Resource, *, namespace: str = "", label_selector: str = "",
                 field_selector: str = ""):
        self.resource = resource
        self._selectors = dict(namespace=namespace, label_selector=label_selector,
                               field_selector=field_selector)
        self._objects: dict[Key, Message] = {}
        self._handlers: list[tuple[Callable | None, Callable | None, Callable | None]] = []
        self._indexes: dict[str, tuple[Callable[[Message], list[Hashable]], dict[Hashable, set[Key]]]] = {}
        self._synced = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.resource_version = ""

    # -- setup

    def add_handler(self, *, on_add: Callable[[Message], None] | None = None,
                    on_update: Callable[[Message, Message], None] | None = None,
                    on_delete: Callable[[Message], None] | None = None) -> None:
        """Register handlers; objects already cached are replayed to on_add."""
        self._handlers.append((on_add, on_update, on_delete))
        if on_add:
            for obj in list(self._objects.values()):
                on_add(obj)

    def add_index(self, name: str, values: Callable[[Message], list[Hashable]]) -> None:
        """Index the cache by values(obj) (e.g. a pod's node name), for by_index()."""
        index: dict[Hashable, set[Key]] = {}
        self._indexes[name] = (values, index)
        for key, obj in self._objects.items():
            for value in values(obj):
                index.setdefault(value, set()).add(key)

    # -- reads

    def get(self, name: str, namespace: str = "") -> Message | None:
        return self._objects.get((namespace, name))

    def list(self) -> list[Message]:
        return list(self._objects.values())

    def by_index(self, name: str, value: Hashable) -> list[Message]:
        _, index = self._indexes[name]
        return [self._objects[k] for k in index.get(value, ())]

    def index_values(self, name: str) -> list[Hashable]:
        """The values the index `name` holds objects under (e.g. every node some pod is bound to)."""
        _, index = self._indexes[name]
        return [value for value, keys in index.items() if keys]

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    async def wait_synced(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._synced.wait(), timeout)

    # -- running

    def start(self) -> asyncio.Task:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"informer-{self.resource.kind.plural}")
        return self._task

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        delay = 0.2
        need_list = True
        while True:
            try:
                if need_list:
                    await self._relist()
                    need_list = False
                await self._watch()
                delay = 0.2  # the server ended the stream cleanly: watch again
            except errors.Gone:
                need_list = True
            except asyncio.CancelledError:
                raise
            except Exception as e:  # server away, restarting, or a handler bug: back off, resume
                log.warning("informer %s: %s; retrying in %.1fs", self.resource.kind.plural, e, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _relist(self) -> None:
        listing = await self.resource.list(**self._selectors)
        fresh = {key_of(obj): obj for obj in listing.items}
        for key in [k for k in self._objects if k not in fresh]:
            self._remove(key)
        for key, obj in fresh.items():
            self._store(key, obj)
        self.resource_version = listing.metadata.resource_version
        self._synced.set()

    async def _watch(self) -> None:
        async for event in self.resource.watch(resource_version=self.resource_version, bookmarks=True,
                                               **self._selectors):
            obj = event.object
            if event.type == "DELETED":
                self._remove(key_of(obj))
            elif event.type in ("ADDED", "MODIFIED"):
                self._store(key_of(obj), obj)
            self.resource_version = obj.metadata.resource_version

    def _store(self, key: Key, obj: Message) -> None:
        old = self._objects.get(key)
        if old is not None and old.metadata.resource_version == obj.metadata.resource_version:
            return
        self._objects[key] = obj
        self._reindex(key, old, obj)
        for on_add, on_update, _ in self._handlers:
            if old is None:
                if on_add:
                    on_add(obj)
            elif on_update:
                on_update(old, obj)

    def _remove(self, key: Key) -> None:
        old = self._objects.pop(key, None)
        if old is None:
            return
        self._reindex(key, old, None)
        for _, _, on_delete in self._handlers:
            if on_delete:
                on_delete(old)

    def _reindex(self, key: Key, old: Message | None, new: Message | None) -> None:
        for values, index in self._indexes.values():
            for value in values(old) if old is not None else ():
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]
            for value in values(new) if new is not None else ():
                index.setdefault(value, set()).add(key)


class InformerFactory:
    """One shared informer per (kind, namespace, selectors) for a process."""

    def __init__(self, client: Client):
        self._client = client
        self._informers: dict[tuple, Informer] = {}

    def informer(self, kind: str, *, namespace: str = "", label_selector: str = "",
                 field_selector: str = "") -> Informer:
        resource = self._client.resource(kind)
        key = (resource.kind.name, namespace, label_selector, field_selector)
        if key not in self._informers:
            self._informers[key] = Informer(resource, namespace=namespace, label_selector=label_selector,
                                            field_selector=field_selector)
        return self._informers[key]

    def start(self) -> None:
        for informer in self._informers.values():
            informer.start()

    async def wait_synced(self, timeout: float | None = None) -> None:
        await asyncio.gather(*(i.wait_synced(timeout) for i in self._informers.values()))

    async def stop(self) -> None:
        await asyncio.gather(*(i.stop() for i in self._informers.values()))
