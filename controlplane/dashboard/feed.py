"""The page's one live stream: every followed resource listed, then watched, multiplexed as JSON lines.

Why one stream: a browser opens at most six HTTP/1.1 connections to a host,
and the page follows eleven resources; the REST port speaks HTTP/1.1 only.
Each list and watch is the REST façade's own request (rest/handlers.py), so
it is authorized for the caller as `kubectl get -A -w` would be.

Lines, each a JSON object with the resource's name (resources.FOLLOWED):
    {"resource": "pods", "type": "SYNC", "items": [...]}        the list, before its watch's events
    {"resource": "pods", "type": "ADDED"|"MODIFIED"|"DELETED", "object": {...}}
    {"resource": "pods", "type": "FAILED", "code": 403, "message": "..."}   that resource only
The stream ends when one watch ends or reports an error (a revision out of
the window, say); the page connects again and gets a fresh SYNC of each.
"""
import asyncio
import logging
from typing import AsyncIterator, Awaitable, Callable, Mapping

from controlplane.apiserver.rest import handlers, names, paths

Handle = Callable[..., Awaitable["handlers.Reply | handlers.Stream"]]
_END = object()
log = logging.getLogger(__name__)


async def _follow(handle: Handle, name: str, path: str, queue: asyncio.Queue) -> None:
    """List `path`, then watch it from the list's revision, putting lines on `queue`; _END when done."""
    try:
        listed = await handle(paths.parse(path, "GET"), query={}, body=b"", content_type=names.JSON, accept="")
        if listed.code != 200:
            await queue.put(_failed(name, listed))
            return
        await queue.put({"resource": name, "type": "SYNC", "items": listed.body.get("items", [])})
        revision = listed.body.get("metadata", {}).get("resourceVersion", "")
        watched = await handle(paths.parse(path, "GET", watch="1"), body=b"", content_type=names.JSON, accept="",
                               query={names.RESOURCE_VERSION: revision, names.ALLOW_BOOKMARKS: "true"})
        if isinstance(watched, handlers.Reply):
            await queue.put(_failed(name, watched))
            return
        try:
            async for event in watched.items:
                if event["type"] == names.ERROR:
                    break
                if event["type"] != names.BOOKMARK:
                    await queue.put({"resource": name, **event})
        finally:
            await watched.items.aclose()
        await queue.put(_END)
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - one resource's failure ends the stream; the page reconnects
        log.exception("dashboard feed: following %s failed", name)
        await queue.put(_END)


def _failed(name: str, reply: "handlers.Reply") -> dict:
    return {"resource": name, "type": "FAILED", "code": reply.code, "message": reply.body.get("message", "")}


async def lines(handle: Handle, followed: Mapping[str, str]) -> AsyncIterator[dict]:
    """The multiplexed stream of `followed` (name -> path) for the current caller."""
    queue: asyncio.Queue = asyncio.Queue()
    tasks = [asyncio.create_task(_follow(handle, name, path, queue)) for name, path in followed.items()]
    try:
        while (line := await queue.get()) is not _END:
            yield line
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
