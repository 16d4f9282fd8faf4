"""Which fields each server-side-apply manager owns, and the conflicts between managers: pure, no I/O.

A manager owns the leaf fields of what it applied last (the REST API keeps
that per manager: apiserver/rest/handlers.py). A leaf is a path through
objects and maps, and through lists merged by key (containers by name) into
the item's fields; it ends at a value, or at a list that is replaced whole.
An apply conflicts with another manager when it sets a leaf that manager
owns to a value the object does not have now (the same value is shared
ownership, as in Kubernetes); forced, the other manager loses those leaves.

Kubernetes writes these sets as managedFields in FieldsV1 (`f:<field>`,
`k:{"<key>":<value>}` for a keyed list item with `.` for the item itself);
`fields_v1` writes ours the same way, for `kubectl get --show-managed-fields`.
"""
import json

from controlplane.api.kinds import Kind
from controlplane.api.patch import MERGE_KEYS, field_message

_MISSING = object()
# Set by the server or naming the object: never owned, never in conflict.
_NOT_OWNED_TOP = {"apiVersion", "kind", "status"}
_NOT_OWNED_META = {"name", "namespace", "resourceVersion", "uid", "generation", "creationTimestamp",
                   "deletionTimestamp", "managedFields", "selfLink"}


def leaves(kind: Kind, manifest) -> dict[tuple, object]:
    """Path -> value of every leaf `manifest` sets. A path's steps are ("f", field) or ("k", key, value)."""
    found: dict[tuple, object] = {}
    if isinstance(manifest, dict):
        _walk(kind.message.DESCRIPTOR, manifest, (), found)
    return found


def _owned(path: tuple, key: str) -> bool:
    if not path:
        return key not in _NOT_OWNED_TOP
    return not (path == (("f", "metadata"),) and key in _NOT_OWNED_META)


def _walk(descriptor, data: dict, path: tuple, found: dict) -> None:
    for key, value in data.items():
        if not _owned(path, key):
            continue
        here = path + (("f", key),)
        merge_key = MERGE_KEYS.get((descriptor.name if descriptor is not None else "", key))
        if merge_key and isinstance(value, list) and all(isinstance(i, dict) and merge_key in i for i in value):
            for item in value:
                _walk(field_message(descriptor, key), item, here + (("k", merge_key, item[merge_key]),), found)
        elif isinstance(value, dict) and value:
            _walk(field_message(descriptor, key), value, here, found)
        else:
            found[here] = value


def value_at(data, path: tuple):
    """The value at `path` in `data`, or a marker no value equals when it is not there."""
    for step in path:
        if step[0] == "f":
            data = data.get(step[1], _MISSING) if isinstance(data, dict) else _MISSING
        else:
            data = next((i for i in data if isinstance(i, dict) and i.get(step[1]) == step[2]), _MISSING) \
                if isinstance(data, list) else _MISSING
        if data is _MISSING:
            return _MISSING
    return data


def conflicts(kind: Kind, live: dict, applied, owners: dict[str, dict]) -> dict[str, list[tuple]]:
    """Manager -> the leaves `applied` would change on `live` that that manager owns (by its last apply)."""
    changed = [p for p, value in leaves(kind, applied).items() if value_at(live, p) != value]
    found = {}
    for manager, record in owners.items():
        theirs = leaves(kind, record)
        taken = [p for p in changed if p in theirs]
        if taken:
            found[manager] = taken
    return found


def without(record: dict, paths: list[tuple]) -> dict:
    """`record` (a manager's last apply) without these leaves: what the manager owns after losing them."""
    record = json.loads(json.dumps(record))
    for path in paths:
        parent = value_at(record, path[:-1])
        if isinstance(parent, dict) and path[-1][0] == "f":
            parent.pop(path[-1][1], None)
    return record


def path_text(path: tuple) -> str:
    """`.spec.template.spec.containers[name="c"].image`, as Kubernetes names a conflicting field."""
    return "".join(f".{step[1]}" if step[0] == "f" else f"[{step[1]}={json.dumps(step[2])}]" for step in path)


def fields_v1(kind: Kind, record: dict) -> dict:
    """A manager's leaves as Kubernetes' FieldsV1."""
    root: dict = {}
    for path in leaves(kind, record):
        node = root
        for step in path:
            if step[0] == "f":
                node = node.setdefault(f"f:{step[1]}", {})
            else:
                node = node.setdefault("k:" + json.dumps({step[1]: step[2]}, separators=(",", ":")), {})
                node.setdefault(".", {})
    return root


def restore(patched: dict, live: dict, paths) -> None:
    """Put back into `patched` the leaves of `paths` it lost but `live` has: a field one manager stopped
    applying stays while another still owns it. Leaves under a keyed list item that went away are not
    put back (the item went with the manager that applied it)."""
    for path in paths:
        value = value_at(live, path)
        if value is _MISSING or value_at(patched, path) is not _MISSING or path[-1][0] != "f":
            continue
        parent = patched
        for step in path[:-1]:
            if step[0] != "f" or not isinstance(parent, dict):
                parent = None
                break
            parent = parent.setdefault(step[1], {})
        if isinstance(parent, dict):
            parent[path[-1][1]] = value
