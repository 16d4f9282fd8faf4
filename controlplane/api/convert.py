"""Kubernetes-style JSON/YAML <-> API messages, strictly.

protobuf's own JSON mapping (json_format) is close to what Kubernetes speaks
but not close enough: it accepts snake_case names, stops at the first problem
with a path in protobuf terms, lets a google.protobuf.Value hold anything and
prints its integers as 8080.0. Manifests must work unchanged and mistakes must
be named by their JSON path, so this module walks the message descriptors
itself: every error found (unknown field, wrong type, bad base64) is collected
with its path, and output looks like kubectl's.

Conventions, as Kubernetes': null means unset; google.protobuf.Value fields
are IntOrString (an integer or a string); bytes are base64; timestamps are
RFC 3339 in UTC.
"""
import base64
import datetime
import functools
import re

import yaml
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from controlplane.api import kinds, versions
from controlplane.api.errors import FieldError, InvalidError, ManifestError

_F = FieldDescriptor
_INT_RANGES = {
    _F.TYPE_INT32: (-(2**31), 2**31 - 1),
    _F.TYPE_INT64: (-(2**63), 2**63 - 1),
    _F.TYPE_UINT32: (0, 2**32 - 1),
    _F.TYPE_UINT64: (0, 2**64 - 1),
}
_TIMESTAMP = "google.protobuf.Timestamp"
_INT_OR_STRING = "google.protobuf.Value"
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE)
_TOP_ORDER = ("apiVersion", "kind", "metadata", "spec", "status")


# ------------------------------------------------------------------ parsing

def from_manifest(data: dict) -> Message:
    """The message for a manifest, its kind chosen by apiVersion and kind (an older version of a few
    kinds is converted first: versions.py)."""
    data = versions.upgrade(data)
    if not isinstance(data, dict):
        raise InvalidError("", "", [FieldError("", "a manifest must be an object")])
    api_version, kind_name = data.get("apiVersion"), data.get("kind")
    errors = [FieldError(key, "required" if not value else "must be a string")
              for key, value in (("apiVersion", api_version), ("kind", kind_name))
              if not value or not isinstance(value, str)]
    if errors:
        raise InvalidError(kind_name if isinstance(kind_name, str) else "", _name_of(data), errors)
    if kind_name not in kinds.KINDS:
        raise InvalidError(str(kind_name), _name_of(data),
                           [FieldError("kind", f'kind "{kind_name}" is not supported')])
    try:
        kind = kinds.for_manifest(api_version, kind_name)
    except KeyError as exc:
        raise InvalidError(kind_name, _name_of(data), [FieldError("apiVersion", exc.args[0])]) from None
    return parse(kind, data)


def parse(kind: kinds.Kind, data: dict) -> Message:
    """Parse a Kubernetes-style JSON dict into `kind`'s message; apiVersion/kind may be omitted."""
    message = kind.message()
    errors: list[FieldError] = []
    _fill(message, data, "", errors)
    for key, expected in (("apiVersion", kind.api_version), ("kind", kind.name)):
        given = data.get(key) if isinstance(data, dict) else None
        if given is not None and given != expected:
            errors.append(FieldError(key, f'must be "{expected}"'))
    if errors:
        raise InvalidError(kind.name, _name_of(data), errors)
    message.api_version, message.kind = kind.api_version, kind.name
    return message


def _name_of(data) -> str:
    meta = data.get("metadata") if isinstance(data, dict) else None
    if not isinstance(meta, dict):
        return ""
    return str(meta.get("name") or meta.get("generateName") or "")


@functools.cache
def _json_fields(descriptor) -> dict[str, FieldDescriptor]:
    return {field.json_name: field for field in descriptor.fields}


def _fill(message: Message, data, path: str, errors: list[FieldError]) -> None:
    if not isinstance(data, dict):
        errors.append(FieldError(path, "must be an object"))
        return
    fields = _json_fields(message.DESCRIPTOR)
    for key, value in data.items():
        here = f"{path}.{key}" if path else str(key)
        field = fields.get(key)
        if field is None:
            errors.append(FieldError(here, "unknown field"))
        elif value is None:
            continue
        elif field.is_repeated and field.message_type and field.message_type.GetOptions().map_entry:
            _fill_map(getattr(message, field.name), field.message_type.fields_by_name["value"],
                      value, here, errors)
        elif field.is_repeated:
            _fill_list(getattr(message, field.name), field, value, here, errors)
        elif field.message_type:
            _fill_message_field(message, field, value, here, errors)
        else:
            converted = _scalar(field, value, here, errors)
            if converted is not _BAD:
                setattr(message, field.name, converted)


def _fill_message_field(message, field, value, path, errors) -> None:
    full_name = field.message_type.full_name
    if full_name == _TIMESTAMP:
        seconds_nanos = _parse_time(value, path, errors)
        if seconds_nanos:
            target = getattr(message, field.name)
            target.seconds, target.nanos = seconds_nanos
    elif full_name == _INT_OR_STRING:
        _set_int_or_string(getattr(message, field.name), value, path, errors)
    else:
        target = getattr(message, field.name)
        target.SetInParent()  # `strategy: {}` and `emptyDir: {}` are present, though empty
        _fill(target, value, path, errors)


def _fill_list(container, field, value, path, errors) -> None:
    if not isinstance(value, list):
        errors.append(FieldError(path, "must be a list"))
        return
    for index, item in enumerate(value):
        here = f"{path}[{index}]"
        if field.message_type:
            target = container.add()
            if item is not None:
                _fill(target, item, here, errors)
        else:
            converted = _scalar(field, item, here, errors)
            if converted is not _BAD:
                container.append(converted)


def _fill_map(container, value_field, value, path, errors) -> None:
    if not isinstance(value, dict):
        errors.append(FieldError(path, "must be an object"))
        return
    for key, item in value.items():
        here = f"{path}[{key}]"
        if not isinstance(key, str):
            errors.append(FieldError(here, "keys must be strings"))
            continue
        converted = _scalar(value_field, item, here, errors)
        if converted is not _BAD:
            container[key] = converted


_BAD = object()


def _scalar(field, value, path, errors):
    """`value` converted for a scalar field, or _BAD after recording why not."""
    kind = field.type
    if kind == _F.TYPE_STRING:
        if isinstance(value, str):
            return value
        errors.append(FieldError(path, "must be a string"))
    elif kind == _F.TYPE_BOOL:
        if isinstance(value, bool):
            return value
        errors.append(FieldError(path, "must be a boolean"))
    elif kind in _INT_RANGES:
        if isinstance(value, int) and not isinstance(value, bool):
            low, high = _INT_RANGES[kind]
            if low <= value <= high:
                return value
            errors.append(FieldError(path, f"{value} is out of range {low}..{high}"))
        else:
            errors.append(FieldError(path, "must be an integer"))
    elif kind == _F.TYPE_BYTES:
        try:
            return base64.b64decode(value, validate=True)
        except (TypeError, ValueError):
            errors.append(FieldError(path, "must be base64-encoded data"))
    else:
        raise TypeError(f"{field.full_name}: no JSON mapping for protobuf type {kind}")
    return _BAD


def _set_int_or_string(target, value, path, errors) -> None:
    if isinstance(value, str):
        target.string_value = value
    elif isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31:
        target.number_value = value
    else:
        errors.append(FieldError(path, "must be an integer or a string"))


def _parse_time(value, path, errors) -> tuple[int, int] | None:
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if match:
        whole, fraction, zone = match.groups()
        try:
            moment = datetime.datetime.fromisoformat(whole + ("+00:00" if zone in "zZ" else zone))
        except ValueError:
            match = None
    if not match:
        errors.append(FieldError(path, 'must be an RFC 3339 time like "2024-01-01T00:00:00Z"'))
        return None
    return int(moment.timestamp()), int((fraction or "0").ljust(9, "0"))


# ------------------------------------------------------------------ output

def to_dict(message: Message) -> dict:
    """Kubernetes-style JSON dict: JSON names, unset fields left out, apiVersion/kind/metadata first."""
    out = _to_json(message)
    first = {key: out.pop(key) for key in _TOP_ORDER if key in out}
    return first | out


def _to_json(message: Message) -> dict:
    out = {}
    for field, value in message.ListFields():
        if field.is_repeated and field.message_type and field.message_type.GetOptions().map_entry:
            to_json = _value_writer(field.message_type.fields_by_name["value"])
            out[field.json_name] = {key: to_json(value[key]) for key in sorted(value)}
        elif field.is_repeated:
            to_json = _value_writer(field)
            out[field.json_name] = [to_json(item) for item in value]
        else:
            out[field.json_name] = _value_writer(field)(value)
    return out


def _value_writer(field):
    if field.type == _F.TYPE_BYTES:
        return lambda data: base64.b64encode(data).decode("ascii")
    if not field.message_type:
        return _same
    full_name = field.message_type.full_name
    if full_name == _TIMESTAMP:
        return _format_time
    if full_name == _INT_OR_STRING:
        return _int_or_string
    return _to_json


def _same(value):
    return value


def _int_or_string(value):
    if value.WhichOneof("kind") == "string_value":
        return value.string_value
    number = value.number_value
    return int(number) if number.is_integer() else number


def _format_time(stamp) -> str:
    moment = datetime.datetime.fromtimestamp(stamp.seconds, datetime.timezone.utc)
    fraction = f".{stamp.nanos:09d}".rstrip("0") if stamp.nanos else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


# ------------------------------------------------------------------ YAML

class _Loader(yaml.CSafeLoader):
    """YAML as Kubernetes reads it: timestamps stay strings, a repeated key is an error."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f'key "{key}" appears twice in one mapping', key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_manifests(text: str, *, source: str = "") -> list[dict]:
    """The objects in multi-document YAML (or JSON): empty documents skipped, `kind: List` expanded.

    ManifestError names the source and the document (1-based) that is broken.
    """
    objects = []
    number = 0
    where = f"{source}: " if source else ""
    try:
        for number, document in enumerate(yaml.load_all(text, Loader=_Loader), 1):
            if document is None:
                continue
            if not isinstance(document, dict):
                raise ManifestError(f"{where}document {number}: must be a mapping with apiVersion and kind")
            if document.get("kind") == "List" and isinstance(document.get("items"), list):
                for index, item in enumerate(document["items"]):
                    if not isinstance(item, dict):
                        raise ManifestError(f"{where}document {number}: items[{index}] must be a mapping")
                    objects.append(item)
            else:
                objects.append(document)
    except yaml.YAMLError as exc:
        raise ManifestError(f"{where}document {number + 1}: {_yaml_problem(exc, text)}") from None
    return objects


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column:column + 1] if line < len(lines) else ""


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    if mark and _char_at(text, mark.line, mark.column) == "\t":
        problem = "found a tab, which YAML does not allow for indentation (use spaces)"
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


class _Dumper(yaml.CSafeDumper):
    """YAML as kubectl writes it: keys in the given order, multi-line strings as blocks,
    strings that would read back as numbers or booleans in double quotes ("1")."""


_STR_TAG = "tag:yaml.org,2002:str"


def _represent_str(dumper, value: str):
    if "\n" in value:
        style = "|"
    elif dumper.resolve(yaml.ScalarNode, value, (True, False)) != _STR_TAG:
        style = '"'
    else:
        style = None
    return dumper.represent_scalar(_STR_TAG, value, style=style)


_Dumper.add_representer(str, _represent_str)


def to_yaml(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1 << 16)
