"""A pod's trace for the page: `cox trace`'s timeline (cli/trace_cmd.py), from reads made as the caller.

The pod, its namespace's Events and Endpoints, and its pods/proxyrules (when
each node's proxy programmed it) are read through the REST façade's handlers
(so RBAC applies), then handed to the same `proxy_steps`, `timeline` and
`rows` the command prints. A refused pod, Events or Endpoints read is the
answer; a refused or failed proxyrules read is one step saying why, as in
`cox trace`, and a node that did not answer is its own step: the rest of the
trace still shows.
"""
from controlplane.api import convert, kinds
from controlplane.apiserver.rest import handlers, names, paths, proxyrules
from controlplane.cli import trace_cmd

COLUMNS = ("time", "since", "component", "what")


def trace_json(pod: dict, events: list[dict], endpoints: list[dict], proxy_rules: dict | None, *,
               proxy_failed: str = "") -> dict:
    """Pure: the trace of `pod` (JSON, as the API serves it) given its namespace's Events and Endpoints and
    its pods/proxyrules answer (None: not read, `proxy_failed` says why)."""
    message = convert.parse(kinds.KINDS["Pod"], pod)
    try:
        rules = None if proxy_rules is None else proxyrules.from_json(proxy_rules)
    except proxyrules.ProxyRulesError as e:
        rules, proxy_failed = None, str(e)
    proxy = trace_cmd.proxy_steps(rules, failed=proxy_failed)
    steps = trace_cmd.timeline(message, [convert.parse(kinds.KINDS["Event"], e) for e in events],
                               [convert.parse(kinds.KINDS["Endpoints"], e) for e in endpoints], proxy)
    return {"namespace": message.metadata.namespace, "name": message.metadata.name,
            "node": message.spec.node_name, "phase": message.status.phase or "Pending",
            "steps": [dict(zip(COLUMNS, row)) for row in trace_cmd.rows(steps)]}


async def _read(handle, path: str) -> "handlers.Reply":
    return await handle(paths.parse(path, "GET"), query={}, body=b"", content_type=names.JSON, accept="")


async def trace(handle, *, namespace: str, name: str) -> "handlers.Reply":
    """The trace as a Reply (200), or the first refused read's Reply (404, 403, ...) of the pod, its Events
    or its Endpoints."""
    base = f"/api/v1/namespaces/{namespace}"
    read = []
    for path in (f"{base}/pods/{name}", f"{base}/events", f"{base}/endpoints"):
        reply = await _read(handle, path)
        if reply.code != 200:
            return reply
        read.append(reply.body)
    pod, events, endpoints = read
    rules = await _read(handle, f"{base}/pods/{name}/{names.PROXYRULES}")
    ok = rules.code == 200
    return handlers.Reply(200, trace_json(pod, events.get("items", []), endpoints.get("items", []),
                                          rules.body if ok else None,
                                          proxy_failed="" if ok else f"{rules.code}: {rules.body.get('message', '')}"))
