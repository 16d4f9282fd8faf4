"""meta.k8s.io/v1 Table responses for `kubectl get`, with the columns `cox get` prints: pure, no I/O.

The columns come from controlplane/cli/printing/columns.py, so kubectl and
`cox get` show the same table; `-o wide`'s extra columns are priority 1.
Each row carries the object's metadata (PartialObjectMetadata), which
kubectl uses for `-A`'s NAMESPACE column and `--show-labels`.
"""
from google.protobuf.message import Message

from controlplane.api import convert
from controlplane.api.kinds import Kind
from controlplane.apiserver.rest import names
from controlplane.cli.printing import columns


def accepts_table(accept: str) -> bool:
    """Does the Accept header ask for a Table (and meta.k8s.io's, the only one there is)?"""
    return any(names.TABLE_MARKER in part.replace(" ", "") for part in accept.split(","))


def table(kind: Kind, objects: list[Message], *, list_meta: dict | None = None) -> dict:
    headers, rows = columns.table(kind, objects, wide=True)
    narrow = len(columns.table(kind, [], wide=False)[0])
    definitions = [{"name": title, "type": "string", "format": "name" if title == "NAME" else "",
                    "description": "", "priority": 0 if index < narrow else 1}
                   for index, title in enumerate(headers)]
    return {"kind": "Table", "apiVersion": names.META_GROUP_VERSION, "metadata": list_meta or {},
            "columnDefinitions": definitions,
            "rows": [{"cells": cells, "object": _partial(obj)} for cells, obj in zip(rows, objects)]}


def _partial(obj: Message) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": names.META_GROUP_VERSION,
            "metadata": convert.to_dict(obj.metadata)}
