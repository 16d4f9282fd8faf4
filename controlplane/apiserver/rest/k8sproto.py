"""Kubernetes' protobuf encoding of a request body -> the Kubernetes JSON the façade takes: pure, no I/O.

kubectl's typed requests (create deployment|configmap|..., run, expose,
auth can-i, drain's evictions) arrive as `application/vnd.kubernetes.protobuf`:
the bytes `k8s\\0`, then a runtime.Unknown holding the apiVersion, the kind
and the object's own protobuf bytes, numbered as Kubernetes numbers its
fields. kubernetes_wire.json (written by proto/kubernetes_wire.py) gives
each message's field numbers, JSON names and types; this module reads the
wire format with it into a JSON dict, so everything after (unknown fields
refused by name, validation, admission) is the JSON path's.

Kubernetes writes every non-pointer field, set or not (`workingDir: ""`,
`stdin: false`, a zero creationTimestamp). As its JSON leaves those out
(omitempty), a zero value is dropped here unless the field is one our own
message has with presence (`optional`, or a message) — so an explicit
`replicas: 0` stays and an unset field we do not support is not refused.
"""
import base64
import datetime
import functools
import json
import pathlib
import struct

from google.protobuf.descriptor import Descriptor, FieldDescriptor

MAGIC = b"k8s\x00"
_TABLE_FILE = pathlib.Path(__file__).with_name("kubernetes_wire.json")
_META = "k8s.io.apimachinery.pkg.apis.meta.v1"
_TIME = {f"{_META}.Time", f"{_META}.MicroTime"}
_INT_OR_STRING = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
_RAW = {"k8s.io.apimachinery.pkg.runtime.RawExtension", f"{_META}.FieldsV1"}
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


class WireError(ValueError):
    """A protobuf body that cannot be read: the caller answers 400 with this message."""


@functools.cache
def _table() -> dict[str, dict[int, tuple[str, str, str]]]:
    raw = json.loads(_TABLE_FILE.read_text())
    return {message: {number: (name, type_, label) for number, name, type_, label in fields}
            for message, fields in raw.items()}


def message_name(api_version: str, kind: str) -> str:
    """The Kubernetes protobuf message of a kind: apps/v1 Deployment -> k8s.io.api.apps.v1.Deployment."""
    group, _, version = api_version.rpartition("/")
    package = f"k8s.io.api.{group.split('.')[0] if group else 'core'}.{version}"
    name = f"{package}.{kind}"
    return name if name in _table() else f"{_META}.{kind}"


def decode(body: bytes, *, descriptor_for=None) -> dict:
    """The JSON object a protobuf body holds. `descriptor_for(apiVersion, kind)` gives our own message's
    descriptor (or None) to drop the zero values Kubernetes always writes (see the module docstring)."""
    if not body.startswith(MAGIC):
        raise WireError("a protobuf body must start with the bytes k8s\\0")
    unknown = _fields(body[len(MAGIC):])
    type_meta = _fields(_last(unknown, 1, b""))
    api_version = _last(type_meta, 1, b"").decode()
    kind = _last(type_meta, 2, b"").decode()
    name = message_name(api_version, kind)
    if name not in _table():
        raise WireError(f'apiVersion "{api_version}", kind "{kind}" has no protobuf form this server reads')
    data = _message(name, _last(unknown, 2, b""))
    descriptor = descriptor_for(api_version, kind) if descriptor_for else None
    data = prune(data, descriptor) if descriptor is not None else data
    return {"apiVersion": api_version, "kind": kind} | data


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data):
            raise WireError("truncated protobuf varint")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if byte < 0x80:
            return value, at
        shift += 7


def _fields(data: bytes) -> dict[int, list]:
    """Field number -> raw values in order (ints for varints and fixed, bytes for length-delimited)."""
    out: dict[int, list] = {}
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, at = _varint(data, at)
        elif wire == _LENGTH:
            size, at = _varint(data, at)
            value, at = data[at:at + size], at + size
            if len(value) != size:
                raise WireError("truncated protobuf field")
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            value, at = data[at:at + size], at + size
        else:
            raise WireError(f"unsupported protobuf wire type {wire}")
        out.setdefault(number, []).append((wire, value))
    return out


def _last(fields: dict, number: int, default):
    """A field's value (the last one, as protobuf reads repeated singular fields)."""
    return fields[number][-1][1] if number in fields else default


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _scalar(type_: str, wire: int, value):
    if type_ == "string":
        return value.decode()
    if type_ == "bytes":
        return base64.b64encode(value).decode()
    if type_ == "bool":
        return bool(value)
    if type_ in ("double", "float"):
        return struct.unpack("<d" if wire == _FIXED64 else "<f", value)[0]
    return _signed(value)


def _packed(type_: str, wire: int, value) -> list:
    """A repeated number may come packed into one length-delimited field."""
    if wire != _LENGTH or type_ in ("string", "bytes") or "." in type_:
        return [_value(type_, wire, value)]
    out, at = [], 0
    while at < len(value):
        number, at = _varint(value, at)
        out.append(_scalar(type_, _VARINT, number))
    return out


def _value(type_: str, wire: int, value):
    if "." not in type_:
        return _scalar(type_, wire, value)
    return _message(type_, value)


def _message(name: str, data: bytes):
    fields = _fields(data)
    if name in _TIME:
        seconds, nanos = _signed(_last(fields, 1, 0)), _last(fields, 2, 0)
        if not seconds and not nanos:
            return None
        moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{nanos // 1000:06d}" if nanos else "") + "Z"
    if name == _INT_OR_STRING:
        return _last(fields, 3, b"").decode() if _last(fields, 1, 0) == 1 else _signed(_last(fields, 2, 0))
    if name == _QUANTITY:
        return _last(fields, 1, b"").decode()
    if name in _RAW:
        raw = _last(fields, 1, b"")
        return json.loads(raw) if raw else None
    schema = _table().get(name)
    if schema is None:
        raise WireError(f"{name.rpartition('.')[2]}: no protobuf form this server reads")
    out = {}
    for number, values in fields.items():
        if number not in schema:
            raise WireError(f"{name.rpartition('.')[2]}: unknown protobuf field number {number}")
        json_name, type_, label = schema[number]
        if label == "map":
            entries = {}
            for _, entry in values:
                pair = _fields(entry)
                key = _last(pair, 1, b"").decode()
                wire, value = pair.get(2, [(_LENGTH, b"")])[-1]
                entries[key] = _value(type_, wire, value)
            out[json_name] = entries
        elif label == "repeated":
            out[json_name] = [item for wire, value in values for item in _packed(type_, wire, value)]
        else:
            wire, value = values[-1]
            out[json_name] = _value(type_, wire, value)
    return out


# ------------------------------------------------------------------ zero values Kubernetes always writes

def _empty(value) -> bool:
    return value is None or value == "" or value == 0 or value is False or value == [] or value == {}


def _has_presence(field: FieldDescriptor) -> bool:
    return field.has_presence and not field.is_repeated


def _nested(field: FieldDescriptor) -> Descriptor | None:
    message = field.message_type
    if message is None:
        return None
    if message.GetOptions().map_entry:
        return _nested(message.fields_by_name["value"])
    return None if message.full_name.startswith("google.protobuf.") else message


def prune(data: dict, descriptor: Descriptor) -> dict:
    """`data` without the zero values of fields that our message lacks or has without presence."""
    fields = {field.json_name: field for field in descriptor.fields}
    out = {}
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            if not _empty(value):
                out[key] = value  # a field we do not support, set: left for the JSON path to refuse by name
            continue
        nested = _nested(field)
        if nested is not None and isinstance(value, dict):
            if field.message_type.GetOptions().map_entry:
                value = {k: prune(v, nested) if isinstance(v, dict) else v for k, v in value.items()}
            else:
                value = prune(value, nested)
        elif nested is not None and isinstance(value, list):
            value = [prune(v, nested) if isinstance(v, dict) else v for v in value]
        if _empty(value) and not (_has_presence(field) and value is not None):
            continue
        out[key] = value
    return out
