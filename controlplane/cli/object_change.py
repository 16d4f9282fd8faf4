"""Read an object, change its JSON, write it back: what label, annotate, patch and edit share.

kubectl sends these as PATCH requests; cox changes the object it read and
writes it back conditional on that read (its resourceVersion), reading again
and redoing the change when another writer got there first, so the result is
the same as a server-side patch. A change that leaves the object as it was
writes nothing, and the caller says "(no change)".
"""
from typing import Callable

from controlplane.api import convert
from controlplane.api.kinds import Kind
from controlplane.cli import common
from controlplane.client import Client, errors

ATTEMPTS = 5  # reads and writes before a busy object's conflicts are reported


async def change(client: Client, kind: Kind, name: str, namespace: str,
                 edit: Callable[[dict], dict], *, dry_run: bool = False) -> tuple[dict, bool]:
    """Apply `edit` (the object's JSON in, the wanted JSON out) and write it; (the result, whether it changed)."""
    resource = client.resource(kind)
    for attempt in range(ATTEMPTS):
        current = await common.get_object(client, kind, namespace, name)
        before = convert.to_dict(current)
        wanted = edit(convert.to_dict(current))
        obj = convert.parse(kind, wanted)
        if obj == current:
            return before, False
        obj.metadata.resource_version = current.metadata.resource_version
        try:
            written = await resource.update(obj, dry_run=dry_run)
        except errors.Conflict:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        return convert.to_dict(written), True
    raise AssertionError("unreachable")
