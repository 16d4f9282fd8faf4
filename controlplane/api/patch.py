"""PATCH bodies applied to an object's JSON: pure, no I/O.

Four kinds of patch, chosen by the REST Content-Type (apiserver/rest/names.PATCH_TYPES) or `cox patch --type`:

- JSON merge patch (RFC 7386): objects merge, null deletes, lists replace.
- JSON patch (RFC 6902): a list of add/remove/replace/move/copy/test operations.
- Strategic merge patch: a merge patch in which the lists Kubernetes marks
  mergeable merge by their key (containers by name, ports by containerPort,
  ...) and the directives kubectl writes ($patch, $setElementOrder/,
  $deleteFromPrimitiveList/, $retainKeys) are honoured. The keys are a table
  by (message, field), looked up while walking the kind's descriptor.
- Apply (server-side apply): the applied configuration merged strategically
  onto the live object, after removing the fields the same field manager
  applied last time and no longer does (the REST API keeps each manager's
  last applied configuration in an annotation; managedfields.py says who owns what).

PatchError is a 400/422 the caller reports with the path it names.
"""
import copy

from google.protobuf.descriptor import Descriptor

from controlplane.api.kinds import Kind

# (message, JSON field) -> the key list items merge by; Kubernetes' patchMergeKey tags.
MERGE_KEYS = {
    ("PodSpec", "containers"): "name", ("PodSpec", "initContainers"): "name", ("PodSpec", "volumes"): "name",
    ("PodSpec", "topologySpreadConstraints"): "topologyKey",
    ("Container", "env"): "name", ("Container", "ports"): "containerPort", ("Container", "volumeMounts"): "mountPath",
    ("PodStatus", "conditions"): "type", ("PodStatus", "podIPs"): "ip",
    ("NodeStatus", "conditions"): "type", ("NodeStatus", "addresses"): "type",
    ("NamespaceStatus", "conditions"): "type", ("DeploymentStatus", "conditions"): "type",
    ("ReplicaSetStatus", "conditions"): "type", ("JobStatus", "conditions"): "type",
    ("ObjectMeta", "ownerReferences"): "uid", ("ServiceSpec", "ports"): "port",
    ("ServiceAccount", "secrets"): "name",
}
# Lists of plain values that merge as sets (patchStrategy merge without a key).
MERGED_VALUE_LISTS = {("ObjectMeta", "finalizers")}

_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_ORDER = "$setElementOrder/"
_DELETE_FROM = "$deleteFromPrimitiveList/"


class PatchError(ValueError):
    """A patch that cannot be applied; the message names where."""


# ------------------------------------------------------------------ JSON merge patch

def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


# ------------------------------------------------------------------ JSON patch

def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f'path "{path}": must start with "/"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc, parts: list[str], path: str):
    node = doc
    for part in parts[:-1]:
        node = _child(node, part, path)
    return node


def _child(node, part: str, path: str):
    try:
        return node[int(part)] if isinstance(node, list) else node[part]
    except (KeyError, IndexError, ValueError, TypeError):
        raise PatchError(f'path "{path}": not found') from None


def _index(node: list, part: str, path: str, *, adding: bool) -> int:
    if adding and part == "-":
        return len(node)
    try:
        index = int(part)
    except ValueError:
        raise PatchError(f'path "{path}": "{part}" is not a list index') from None
    if not 0 <= index <= len(node) - (0 if adding else 1):
        raise PatchError(f'path "{path}": index {index} is out of range')
    return index


def _add(doc, path: str, value):
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    if isinstance(parent, list):
        parent.insert(_index(parent, parts[-1], path, adding=True), value)
    elif isinstance(parent, dict):
        parent[parts[-1]] = value
    else:
        raise PatchError(f'path "{path}": parent is not an object or a list')
    return doc


def _remove(doc, path: str):
    parts = _pointer(path)
    if not parts:
        raise PatchError('path "": cannot remove the whole object')
    parent = _parent(doc, parts, path)
    if isinstance(parent, list):
        return parent.pop(_index(parent, parts[-1], path, adding=False))
    if isinstance(parent, dict) and parts[-1] in parent:
        return parent.pop(parts[-1])
    raise PatchError(f'path "{path}": not found')


def _get(doc, path: str):
    node = doc
    for part in _pointer(path):
        node = _child(node, part, path)
    return node


def json_patch(target, operations):
    """RFC 6902, all operations or none."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for number, op in enumerate(operations):
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise PatchError(f"operation {number}: must be an object with op and path")
        name, path = op.get("op"), op["path"]
        if name in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"operation {number} ({name} {path}): value required")
        if name == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif name == "remove":
            _remove(doc, path)
        elif name == "replace":
            _get(doc, path)
            if _pointer(path):
                _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif name in ("move", "copy"):
            if not isinstance(op.get("from"), str):
                raise PatchError(f"operation {number} ({name} {path}): from required")
            value = _remove(doc, op["from"]) if name == "move" else copy.deepcopy(_get(doc, op["from"]))
            doc = _add(doc, path, value)
        elif name == "test":
            if _get(doc, path) != op["value"]:
                raise PatchError(f'operation {number} (test {path}): the value differs')
        else:
            raise PatchError(f'operation {number}: op "{name}" is not add, remove, replace, move, copy or test')
    return doc


# ------------------------------------------------------------------ strategic merge patch

def strategic_merge_patch(kind: Kind, target: dict, patch) -> dict:
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be an object")
    return _merge_object(kind.message.DESCRIPTOR, target, patch, "")


def field_message(descriptor: Descriptor | None, key: str) -> Descriptor | None:
    if descriptor is None:
        return None
    for field in descriptor.fields:
        if field.json_name == key:
            entry = field.message_type
            if entry is not None and entry.GetOptions().map_entry:
                return None
            return entry
    return None


def _merge_object(descriptor, target, patch: dict, path: str) -> dict:
    if patch.get(_PATCH) == "replace":
        return {k: v for k, v in patch.items() if k != _PATCH}
    if patch.get(_PATCH) not in (None, "merge"):
        raise PatchError(f'{path or "."}: $patch "{patch[_PATCH]}" is not supported here')
    out = dict(target) if isinstance(target, dict) else {}
    retain = patch.get(_RETAIN_KEYS)
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain or k in patch}
    orders = {}
    for key, value in patch.items():
        here = f"{path}.{key}" if path else key
        if key in (_PATCH, _RETAIN_KEYS):
            continue
        if key.startswith(_ORDER):
            orders[key[len(_ORDER):]] = value
        elif key.startswith(_DELETE_FROM):
            field = key[len(_DELETE_FROM):]
            if isinstance(out.get(field), list) and isinstance(value, list):
                out[field] = [item for item in out[field] if item not in value]
        elif value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            out[key] = _merge_object(field_message(descriptor, key), out.get(key), value, here)
        elif isinstance(value, list):
            out[key] = _merge_list(descriptor, key, out.get(key), value, here)
        else:
            out[key] = value
    for field, order in orders.items():
        if isinstance(out.get(field), list) and isinstance(order, list):
            out[field] = _ordered(descriptor, field, out[field], order)
    return out


def _merge_list(descriptor, key: str, target, patch: list, path: str) -> list:
    owner = descriptor.name if descriptor is not None else ""
    if (owner, key) in MERGED_VALUE_LISTS:
        current = list(target) if isinstance(target, list) else []
        return current + [item for item in patch if item not in current]
    merge_key = MERGE_KEYS.get((owner, key))
    if merge_key is None:
        return copy.deepcopy([item for item in patch if not (isinstance(item, dict) and _PATCH in item)])
    items = [dict(item) for item in target] if isinstance(target, list) else []
    element = field_message(descriptor, key)
    for index, change in enumerate(patch):
        if not isinstance(change, dict) or merge_key not in change:
            raise PatchError(f"{path}[{index}]: {merge_key} required to merge the list")
        at = next((i for i, item in enumerate(items) if item.get(merge_key) == change[merge_key]), None)
        if change.get(_PATCH) == "delete":
            if at is not None:
                items.pop(at)
        elif at is None:
            items.append(_merge_object(element, {}, change, f"{path}[{index}]"))
        else:
            items[at] = _merge_object(element, items[at], change, f"{path}[{index}]")
    return items


def _ordered(descriptor, field: str, items: list, order: list) -> list:
    """Items in $setElementOrder's order; items it does not name keep their place at the end."""
    merge_key = MERGE_KEYS.get((descriptor.name if descriptor is not None else "", field))
    keyed = (lambda item: item.get(merge_key)) if merge_key else (lambda item: item)
    wanted = [entry.get(merge_key) if merge_key and isinstance(entry, dict) else entry for entry in order]
    rank = {value: i for i, value in enumerate(wanted) if isinstance(value, (str, int))}
    return sorted(items, key=lambda item: rank.get(keyed(item), len(rank)))


# ------------------------------------------------------------------ server-side apply

def apply_patch(kind: Kind, live: dict | None, applied, *, previous: dict | None = None) -> dict:
    """The object after applying `applied` (a whole manifest) onto `live` (None: it is created).

    `previous` is what the same field manager applied last time: the fields it had and `applied` has not
    are removed first (only that manager's; the REST handler puts back what another applier still owns:
    managedfields.restore), so dropping a field from a manifest and applying it again removes the field.
    """
    if not isinstance(applied, dict):
        raise PatchError("an apply patch must be an object")
    if live is None:
        return copy.deepcopy(applied)
    if isinstance(previous, dict):
        live = _unapply(kind.message.DESCRIPTOR, copy.deepcopy(live), previous, applied)
    return strategic_merge_patch(kind, live, applied)


def _unapply(descriptor, live: dict, previous: dict, applied: dict) -> dict:
    """`live` without what `previous` set and `applied` no longer does (lists keyed by their merge key)."""
    for key, old in previous.items():
        if key not in live or key in ("apiVersion", "kind"):
            continue
        if key not in applied:
            del live[key]
            continue
        new, here = applied[key], live[key]
        if isinstance(old, dict) and isinstance(new, dict) and isinstance(here, dict):
            live[key] = _unapply(field_message(descriptor, key), here, old, new)
        elif isinstance(old, list) and isinstance(new, list) and isinstance(here, list):
            merge_key = MERGE_KEYS.get((descriptor.name if descriptor is not None else "", key))
            if merge_key:
                live[key] = _unapply_list(field_message(descriptor, key), merge_key, here, old, new)
    return live


def _unapply_list(element, merge_key: str, live: list, previous: list, applied: list) -> list:
    def by_key(items):
        return {item[merge_key]: item for item in items if isinstance(item, dict) and merge_key in item}
    olds, news = by_key(previous), by_key(applied)
    out = []
    for item in live:
        key = item.get(merge_key) if isinstance(item, dict) else None
        if key in olds and key not in news:
            continue
        out.append(_unapply(element, dict(item), olds[key], news[key]) if key in olds else item)
    return out
