"""A pod's trace for the page: `cox trace`'s timeline (cli/trace_cmd.py), from reads made as the caller.

The pod, its namespace's Events and Endpoints are read through the REST
façade's handlers (so RBAC applies, and a refused read is the answer), then
handed to the same `timeline` and `rows` the command prints.
"""
from controlplane.api import convert, kinds
from controlplane.apiserver.rest import handlers, names, paths
from controlplane.cli import trace_cmd

COLUMNS = ("time", "since", "component", "what")


def trace_json(pod: dict, events: list[dict], endpoints: list[dict]) -> dict:
    """Pure: the trace of `pod` (JSON, as the API serves it) given its namespace's Events and Endpoints."""
    message = convert.parse(kinds.KINDS["Pod"], pod)
    steps = trace_cmd.timeline(message, [convert.parse(kinds.KINDS["Event"], e) for e in events],
                               [convert.parse(kinds.KINDS["Endpoints"], e) for e in endpoints])
    return {"namespace": message.metadata.namespace, "name": message.metadata.name,
            "node": message.spec.node_name, "phase": message.status.phase or "Pending",
            "steps": [dict(zip(COLUMNS, row)) for row in trace_cmd.rows(steps)]}


async def trace(handle, *, namespace: str, name: str) -> "handlers.Reply":
    """The trace as a Reply (200), or the first refused read's Reply (404, 403, ...)."""
    base = f"/api/v1/namespaces/{namespace}"
    read = []
    for path in (f"{base}/pods/{name}", f"{base}/events", f"{base}/endpoints"):
        reply = await handle(paths.parse(path, "GET"), query={}, body=b"", content_type=names.JSON, accept="")
        if reply.code != 200:
            return reply
        read.append(reply.body)
    pod, events, endpoints = read
    return handlers.Reply(200, trace_json(pod, events.get("items", []), endpoints.get("items", [])))
