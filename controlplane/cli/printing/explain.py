"""`cox explain`'s text: a kind's or a field's type and its fields, from the API message descriptors.

Pure. Field names are the JSON names manifests use; types are written as
kubectl writes them (`<string>`, `<[]Container>`, `<map[string]string>`,
`<Object>`, `<IntOrString>`, `<Time>`). The messages carry no descriptions,
so none are printed.
"""
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from controlplane.api.kinds import Kind

_F = FieldDescriptor
_SCALARS = {_F.TYPE_STRING: "string", _F.TYPE_BOOL: "boolean", _F.TYPE_BYTES: "string", _F.TYPE_DOUBLE: "number",
            _F.TYPE_FLOAT: "number", _F.TYPE_ENUM: "string"}
_SPECIAL = {"google.protobuf.Timestamp": "Time", "google.protobuf.Value": "IntOrString"}


class ExplainError(ValueError):
    """A field path the kind does not have."""


def _is_map(field: FieldDescriptor) -> bool:
    return field.is_repeated and field.message_type is not None and field.message_type.GetOptions().map_entry


def type_name(field: FieldDescriptor) -> str:
    if _is_map(field):
        return f"map[string]{type_name(field.message_type.fields_by_name['value'])}"
    if field.message_type is not None:
        name = _SPECIAL.get(field.message_type.full_name, field.message_type.name)
    else:
        name = _SCALARS.get(field.type, "integer")
    return f"[]{name}" if field.is_repeated else name


def _fields(descriptor: Descriptor) -> dict[str, FieldDescriptor]:
    return {field.json_name: field for field in descriptor.fields}


def _nested(field: FieldDescriptor) -> Descriptor | None:
    """The message a field's values are (a map's values), if they are messages but not Time/IntOrString."""
    if _is_map(field):
        field = field.message_type.fields_by_name["value"]
    message = field.message_type
    return None if message is None or message.full_name in _SPECIAL else message


def explain(kind: Kind, path: list[str], *, recursive: bool = False) -> str:
    """The text for `explain KIND.a.b`: the kind (or the field at `path`) and the fields below it."""
    descriptor, field, walked = kind.message.DESCRIPTOR, None, []
    for name in path:
        fields = _fields(descriptor) if descriptor is not None else {}
        if name not in fields:
            where = ".".join([kind.singular, *walked])
            raise ExplainError(f'field "{name}" does not exist in {where}')
        field, descriptor = fields[name], _nested(fields[name])
        walked.append(name)
    lines = [f"KIND:       {kind.name}", f"VERSION:    {kind.api_version}", ""]
    if field is not None:
        lines += [f"FIELD: {field.json_name} <{type_name(field)}>", ""]
    if descriptor is not None:
        lines += ["FIELDS:", *_field_lines(descriptor, depth=1, recursive=recursive)]
    return "\n".join(lines) + "\n"


def _field_lines(descriptor: Descriptor, *, depth: int, recursive: bool, seen: tuple = ()) -> list[str]:
    lines = []
    for name, field in sorted(_fields(descriptor).items()):
        lines.append(f"{'  ' * depth}{name}\t<{type_name(field)}>")
        nested = _nested(field)
        if recursive and nested is not None and nested.full_name not in seen:
            lines += _field_lines(nested, depth=depth + 1, recursive=True, seen=(*seen, descriptor.full_name))
    return lines
