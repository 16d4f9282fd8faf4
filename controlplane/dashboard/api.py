"""The page's two authenticated calls, under /dashboard/api/: the live feed and a pod's trace.

    GET /dashboard/api/feed                              feed.py's stream (chunked JSON lines)
    GET /dashboard/api/trace?namespace=NS&name=POD       trace.py's timeline

Both are made of the REST façade's own requests as the caller; `answer`
returns what rest/server.py writes out (a Reply or a Stream).
"""
import re
from typing import Mapping

from controlplane.apiserver.rest import handlers, names, status
from controlplane.dashboard import feed, resources, trace
from controlplane.dashboard.assets import PREFIX

API_PREFIX = PREFIX + "/api/"
_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def _bad(message: str) -> "handlers.Reply":
    return handlers.Reply(400, status.status(400, "BadRequest", message))


async def answer(path: str, method: str, query: Mapping[str, str], handle) -> "handlers.Reply | handlers.Stream":
    call = path[len(API_PREFIX):]
    if call not in ("feed", "trace"):
        return handlers.Reply(404, status.status(404, "NotFound", f"no dashboard call {path}"))
    if method != "GET":
        return handlers.Reply(405, status.status(405, "MethodNotAllowed", f"{method} is not allowed on {path}"))
    if call == "feed":
        return handlers.Stream(feed.lines(handle, resources.FOLLOWED), names.JSON)
    for field in ("namespace", "name"):
        if not _NAME.match(query.get(field, "")):
            return _bad(f'{field}: "{query.get(field, "")}" is not a valid name' if query.get(field)
                        else f"{field}: required")
    return await trace.trace(handle, namespace=query["namespace"], name=query["name"])
