"""metadata: names, namespace, labels, annotations, owners and finalizers.

The same rules for every kind; only the name's syntax differs (passed in by
the kind's validator), because names become DNS names, store keys and labels.
"""
from controlplane.api import kinds, names
from controlplane.api.errors import FieldError
from controlplane.api.validation.common import Errors, immutable, labels, optional_value, syntax

ANNOTATIONS_SIZE_LIMIT = 256 * 1024  # bytes of keys and values together, as Kubernetes


def object_meta(obj, name_rule) -> Errors:
    meta = obj.metadata
    if meta.name:
        yield from syntax("metadata.name", meta.name, name_rule)
    elif not meta.generate_name:
        yield FieldError("metadata.name", "name or generateName is required")
    if meta.generate_name:
        # A prefix: the server appends random characters, so a trailing "-" is fine.
        prefix = meta.generate_name
        if (problem := name_rule(prefix[:-1] + "a" if prefix.endswith("-") else prefix)) is not None:
            yield FieldError("metadata.generateName", f'"{prefix}": {problem}')
    if kinds.by_name(obj.DESCRIPTOR.name).namespaced:
        if not meta.namespace:
            yield FieldError("metadata.namespace", "required")
        else:
            yield from syntax("metadata.namespace", meta.namespace, names.dns_label)
    elif meta.namespace:
        yield FieldError("metadata.namespace", "not allowed on this cluster-scoped kind")
    yield from labels("metadata.labels", meta.labels)
    yield from annotations("metadata.annotations", meta.annotations)
    yield from _owner_references(meta.owner_references)
    for index, finalizer in enumerate(meta.finalizers):
        yield from syntax(f"metadata.finalizers[{index}]", finalizer, names.qualified_name)
    if meta.HasField("deletion_grace_period_seconds") and meta.deletion_grace_period_seconds < 0:
        yield FieldError("metadata.deletionGracePeriodSeconds", "must be greater than or equal to 0")


def annotations(path: str, mapping) -> Errors:
    size = 0
    for key in sorted(mapping):
        yield from syntax(path, key.lower(), names.qualified_name)
        size += len(key) + len(mapping[key])
    if size > ANNOTATIONS_SIZE_LIMIT:
        yield FieldError(path, f"too long: must have at most {ANNOTATIONS_SIZE_LIMIT} bytes")


def _owner_references(references) -> Errors:
    controllers = 0
    for index, ref in enumerate(references):
        path = f"metadata.ownerReferences[{index}]"
        for field, value in (("apiVersion", ref.api_version), ("kind", ref.kind),
                             ("name", ref.name), ("uid", ref.uid)):
            if not value:
                yield FieldError(f"{path}.{field}", "required")
        controllers += ref.controller
    if controllers > 1:
        yield FieldError("metadata.ownerReferences", "only one reference can have controller set to true")


def object_meta_update(new, old) -> Errors:
    """What no update may change: identity, creation, deletion (set only by deleting)."""
    n, o = new.metadata, old.metadata
    yield from immutable("metadata.name", n.name, o.name)
    yield from immutable("metadata.namespace", n.namespace, o.namespace)
    yield from immutable("metadata.uid", n.uid, o.uid)
    yield from immutable("metadata.creationTimestamp", n.creation_timestamp, o.creation_timestamp)
    yield from immutable("metadata.deletionTimestamp", n.deletion_timestamp, o.deletion_timestamp)
    yield from immutable("metadata.deletionGracePeriodSeconds",
                         optional_value(n, "deletion_grace_period_seconds"),
                         optional_value(o, "deletion_grace_period_seconds"))
    if o.HasField("deletion_timestamp"):
        added = [f for f in n.finalizers if f not in o.finalizers]
        if added:
            yield FieldError("metadata.finalizers",
                             f"no new finalizers can be added if the object is being deleted, found {added}")
