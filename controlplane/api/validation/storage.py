"""PersistentVolumes, PersistentVolumeClaims and StorageClasses.

A volume has one source (a node-local path: hostPath or local), a capacity
and access modes; a `local` volume must say by nodeAffinity which node its
path is on, or a pod could land where the data is not. A claim asks for a
size and access modes; what it asks may not change once made (no resizing),
except that the binder fills in volumeName and the default class. A class
names its provisioner and how binding waits; both are fixed once made.
"""
from controlplane.api import names
from controlplane.api.errors import FieldError
from controlplane.api.validation import meta, scheduling
from controlplane.api.validation.common import (Errors, immutable, label_selector, one_of,
                                                optional_value, quantity_value, required_syntax)

ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
RECLAIM_POLICIES = ("Retain", "Delete")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
VOLUME_SOURCES = ("hostPath", "local")


def _access_modes(path: str, modes, *, required: bool) -> Errors:
    if required and not modes:
        yield FieldError(path, "must specify at least 1 access mode")
    for index, mode in enumerate(modes):
        yield from one_of(f"{path}[{index}]", mode, ACCESS_MODES)
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        yield FieldError(path, "may not use ReadWriteOncePod with other access modes")


def _storage(path: str, amounts, *, required: bool) -> Errors:
    for name in sorted(amounts):
        if name != "storage":
            yield FieldError(f"{path}[{name}]", f'unsupported resource "{name}": supported values: "storage"')
            continue
        value = quantity_value(f"{path}[storage]", amounts[name])
        if isinstance(value, FieldError):
            yield value
    if required and "storage" not in amounts:
        yield FieldError(f"{path}[storage]", "required")


# ---------------------------------------------------------------- PersistentVolume

def validate_persistent_volume(volume) -> Errors:
    spec = volume.spec
    yield from meta.object_meta(volume, names.dns_subdomain)
    yield from _storage("spec.capacity", spec.capacity, required=True)
    yield from _access_modes("spec.accessModes", spec.access_modes, required=True)
    yield from one_of("spec.persistentVolumeReclaimPolicy", spec.persistent_volume_reclaim_policy, RECLAIM_POLICIES)
    yield from one_of("spec.volumeMode", spec.volume_mode, ("Filesystem",))
    if spec.storage_class_name:
        yield from required_syntax("spec.storageClassName", spec.storage_class_name, names.dns_subdomain)
    present = [s for s in ("host_path", "local") if spec.HasField(s)]
    if len(present) != 1:
        yield FieldError("spec", f"must specify exactly one volume source: one of {', '.join(VOLUME_SOURCES)}")
    for field, json_name in (("host_path", "hostPath"), ("local", "local")):
        source = getattr(spec, field)
        if spec.HasField(field) and (not source.path.startswith("/") or ".." in source.path.split("/")):
            yield FieldError(f"spec.{json_name}.path", f'"{source.path}": must be an absolute path without \'..\'')
    required = spec.node_affinity.required
    if spec.HasField("local") and not required.node_selector_terms:
        yield FieldError("spec.nodeAffinity", "required for a local volume")
    for index, term in enumerate(required.node_selector_terms):
        yield from scheduling.node_selector_term(f"spec.nodeAffinity.required.nodeSelectorTerms[{index}]", term)
    if spec.claim_ref.name and not spec.claim_ref.namespace:
        yield FieldError("spec.claimRef.namespace", "required")


def persistent_volume_update_rules(new, old) -> Errors:
    for field, json_name in (("host_path", "hostPath"), ("local", "local")):
        yield from immutable(f"spec.{json_name}", getattr(new.spec, field), getattr(old.spec, field))
    if old.spec.HasField("node_affinity"):
        yield from immutable("spec.nodeAffinity", new.spec.node_affinity, old.spec.node_affinity)


# ---------------------------------------------------------------- PersistentVolumeClaim

def validate_persistent_volume_claim(claim) -> Errors:
    yield from meta.object_meta(claim, names.dns_subdomain)
    yield from claim_spec("spec", claim.spec)


def claim_spec(path: str, spec) -> Errors:
    """A claim's spec, standing alone or as a StatefulSet's volumeClaimTemplate."""
    yield from _access_modes(f"{path}.accessModes", spec.access_modes, required=True)
    yield from _storage(f"{path}.resources.requests", spec.resources.requests, required=True)
    yield from _storage(f"{path}.resources.limits", spec.resources.limits, required=False)
    yield from label_selector(f"{path}.selector", spec.selector)
    yield from one_of(f"{path}.volumeMode", spec.volume_mode, ("Filesystem",))
    if spec.storage_class_name:
        yield from required_syntax(f"{path}.storageClassName", spec.storage_class_name, names.dns_subdomain)
    if spec.volume_name:
        yield from required_syntax(f"{path}.volumeName", spec.volume_name, names.dns_subdomain)


def persistent_volume_claim_update_rules(new, old) -> Errors:
    """Everything but a volumeName or class set where there was none (the binder's and the default's)."""
    for field, json_name in (("access_modes", "accessModes"), ("resources", "resources"),
                             ("selector", "selector"), ("volume_mode", "volumeMode")):
        yield from immutable(f"spec.{json_name}", getattr(new.spec, field), getattr(old.spec, field))
    if old.spec.volume_name:
        yield from immutable("spec.volumeName", new.spec.volume_name, old.spec.volume_name)
    if old.spec.HasField("storage_class_name"):
        yield from immutable("spec.storageClassName", optional_value(new.spec, "storage_class_name"),
                             old.spec.storage_class_name)


# ---------------------------------------------------------------- StorageClass

def validate_storage_class(storage_class) -> Errors:
    yield from meta.object_meta(storage_class, names.dns_subdomain)
    yield from required_syntax("provisioner", storage_class.provisioner, names.qualified_name)
    yield from one_of("reclaimPolicy", storage_class.reclaim_policy, RECLAIM_POLICIES)
    yield from one_of("volumeBindingMode", storage_class.volume_binding_mode, BINDING_MODES)


def storage_class_update_rules(new, old) -> Errors:
    for field, json_name in (("provisioner", "provisioner"), ("parameters", "parameters"),
                             ("reclaim_policy", "reclaimPolicy"), ("volume_binding_mode", "volumeBindingMode")):
        yield from immutable(json_name, getattr(new, field), getattr(old, field))
