"""How `cox apply` updates a live object from a manifest.

The fields the manifest names replace the live object's; a field set to null
clears it. Nested objects (spec, template, strategy) are walked, so what the
manifest leaves out keeps its live value: the node the scheduler bound a pod
to, a Service's allocated clusterIP, a Job's generated selector, defaults.
Maps (labels, data, selectors) and lists (containers, ports) are replaced
whole, so a key or item removed from the manifest is removed from the object.
Of metadata only labels and annotations are taken; status is the system's.

This is kubectl apply's result for an object that carries no
last-applied-configuration: a scalar field dropped from the manifest (say
`replicas`) keeps its live value rather than going back to its default;
write `replicas: null` to reset it.
"""
from google.protobuf.message import Message

_OPAQUE = ("google.protobuf.Timestamp", "google.protobuf.Value")
_SKIPPED = ("apiVersion", "kind", "metadata", "status")
_METADATA_TAKEN = ("labels", "annotations")


def applied(live: Message, manifest: Message, data: dict) -> Message:
    """A copy of `live` with `manifest` (parsed from `data`) laid over it, keeping live's resourceVersion."""
    result = type(live)()
    result.CopyFrom(live)
    _overlay(result, manifest, {k: v for k, v in data.items() if k not in _SKIPPED})
    metadata = data.get("metadata") or {}
    _overlay(result.metadata, manifest.metadata, {k: v for k, v in metadata.items() if k in _METADATA_TAKEN})
    return result


def _overlay(target: Message, source: Message, named: dict) -> None:
    fields = {f.json_name: f for f in target.DESCRIPTOR.fields}
    for key, value in named.items():
        field = fields[key]  # parsing already refused unknown fields
        if isinstance(value, dict) and _is_nested_object(field):
            nested = getattr(target, field.name)
            nested.SetInParent()  # `resources: {}` is present, though empty
            _overlay(nested, getattr(source, field.name), value)
        else:
            _replace(target, source, field)


def _is_nested_object(field) -> bool:
    return (field.message_type is not None and not field.is_repeated
            and field.message_type.full_name not in _OPAQUE)


def _replace(target: Message, source: Message, field) -> None:
    target.ClearField(field.name)
    if field.is_repeated:
        getattr(target, field.name).MergeFrom(getattr(source, field.name))
    elif field.has_presence and not source.HasField(field.name):
        return
    elif field.message_type is not None:
        getattr(target, field.name).CopyFrom(getattr(source, field.name))
    else:
        setattr(target, field.name, getattr(source, field.name))
