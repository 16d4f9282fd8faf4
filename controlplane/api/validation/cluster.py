"""Namespaces, Nodes, PriorityClasses, Leases and Events.

Mostly the objects components write for each other (node status, heartbeat
leases, events); the checks keep them well-formed so readers need not guard:
a node's capacity parses, its podCIDR is set once, an event lives in its
object's namespace, a priority class keeps its value.
"""
import ipaddress

from controlplane.api import names
from controlplane.api.errors import FieldError
from controlplane.api.validation import meta, scheduling
from controlplane.api.validation.common import (Errors, at_least, immutable, one_of,
                                                optional_at_least, resource_amounts, syntax)

NODE_RESOURCES = ("cpu", "memory", "ephemeral-storage", "pods")
NODE_ADDRESS_TYPES = ("InternalIP", "ExternalIP", "Hostname", "InternalDNS", "ExternalDNS")
HIGHEST_USER_PRIORITY = 1_000_000_000
SYSTEM_PRIORITY_CLASSES = {"system-cluster-critical": 2_000_000_000, "system-node-critical": 2_000_001_000}


# ---------------------------------------------------------------- Namespace

def validate_namespace(namespace) -> Errors:
    yield from meta.object_meta(namespace, names.dns_label)
    for index, finalizer in enumerate(namespace.spec.finalizers):
        yield from syntax(f"spec.finalizers[{index}]", finalizer, names.qualified_name)
    yield from one_of("status.phase", namespace.status.phase, ("Active", "Terminating"))


# ---------------------------------------------------------------- Node

def validate_node(node) -> Errors:
    spec, status = node.spec, node.status
    yield from meta.object_meta(node, names.dns_subdomain)
    if spec.pod_cidr:
        yield from _cidr("spec.podCIDR", spec.pod_cidr)
    for index, cidr in enumerate(spec.pod_cidrs):
        yield from _cidr(f"spec.podCIDRs[{index}]", cidr)
    if spec.pod_cidr and spec.pod_cidrs and spec.pod_cidrs[0] != spec.pod_cidr:
        yield FieldError("spec.podCIDRs[0]", "must match `podCIDR`")
    yield from scheduling.taints("spec.taints", spec.taints)
    yield from resource_amounts("status.capacity", status.capacity, NODE_RESOURCES)
    yield from resource_amounts("status.allocatable", status.allocatable, NODE_RESOURCES)
    for index, address in enumerate(status.addresses):
        yield from one_of(f"status.addresses[{index}].type", address.type, NODE_ADDRESS_TYPES, required=True)
        if not address.address:
            yield FieldError(f"status.addresses[{index}].address", "required")


def _cidr(path: str, text: str) -> Errors:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        yield FieldError(path, f'"{text}": must be a valid CIDR (e.g. 10.244.1.0/24)')


def node_update_rules(new, old) -> Errors:
    if old.spec.pod_cidr:
        yield from immutable("spec.podCIDR", new.spec.pod_cidr, old.spec.pod_cidr)
    if old.spec.pod_cidrs:
        yield from immutable("spec.podCIDRs", list(new.spec.pod_cidrs), list(old.spec.pod_cidrs))


# ---------------------------------------------------------------- PriorityClass

def validate_priority_class(priority_class) -> Errors:
    name = priority_class.metadata.name
    yield from meta.object_meta(priority_class, names.dns_subdomain)
    if name.startswith("system-"):
        if name not in SYSTEM_PRIORITY_CLASSES:
            yield FieldError("metadata.name", 'names with the "system-" prefix are reserved for system use')
        elif priority_class.value != SYSTEM_PRIORITY_CLASSES[name]:
            yield FieldError("value", f"must be {SYSTEM_PRIORITY_CLASSES[name]} for {name}")
    elif priority_class.value > HIGHEST_USER_PRIORITY:
        yield FieldError("value", f"must be no more than {HIGHEST_USER_PRIORITY} (higher values are "
                         "reserved for system priority classes)")
    yield from one_of("preemptionPolicy", priority_class.preemption_policy, ("PreemptLowerPriority", "Never"))


def priority_class_update_rules(new, old) -> Errors:
    yield from immutable("value", new.value, old.value)
    yield from immutable("preemptionPolicy", new.preemption_policy, old.preemption_policy)


# ---------------------------------------------------------------- Lease

def validate_lease(lease) -> Errors:
    yield from meta.object_meta(lease, names.dns_subdomain)
    yield from optional_at_least(lease.spec, "lease_duration_seconds", "spec.leaseDurationSeconds", 1)
    yield from optional_at_least(lease.spec, "lease_transitions", "spec.leaseTransitions", 0)


# ---------------------------------------------------------------- Event

def validate_event(event) -> Errors:
    yield from meta.object_meta(event, names.dns_subdomain)
    involved = event.involved_object
    if involved.namespace and involved.namespace != event.metadata.namespace:
        yield FieldError("involvedObject.namespace", f'"{involved.namespace}": does not match the '
                         f'event\'s namespace "{event.metadata.namespace}"')
    if not involved.namespace and event.metadata.namespace != "default":
        yield FieldError("metadata.namespace", "events about cluster-scoped objects belong in \"default\"")
    yield from one_of("type", event.type, ("Normal", "Warning"))
    yield from at_least("count", event.count, 0)
    if len(event.reason) > 128:
        yield FieldError("reason", "must be no more than 128 characters")


def event_update_rules(new, old) -> Errors:
    yield from immutable("involvedObject", new.involved_object, old.involved_object)


# ---------------------------------------------------------------- NodeCredentialRequest

MIN_CREDENTIAL_SECONDS = 60


def validate_node_credential_request(request) -> Errors:
    yield from meta.object_meta(request, names.dns_subdomain)
    if not request.spec.node_name:
        yield FieldError("spec.nodeName", "required")
    else:
        yield from syntax("spec.nodeName", request.spec.node_name, names.dns_subdomain)
    yield from optional_at_least(request.spec, "expiration_seconds", "spec.expirationSeconds",
                                 MIN_CREDENTIAL_SECONDS)


def node_credential_request_update_rules(new, old) -> Errors:
    yield from immutable("spec", new.spec, old.spec)
