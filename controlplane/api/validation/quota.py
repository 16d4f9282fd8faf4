"""ResourceQuota and LimitRange: resource names a quota can count, quantities, scopes we support, and
LimitRange items whose bounds are consistent (min ≤ defaultRequest ≤ default ≤ max)."""
from controlplane.api import limitranges, names, resourcequota
from controlplane.api.errors import FieldError
from controlplane.api.validation import meta
from controlplane.api.validation.common import Errors, one_of, quantity_value, resource_amounts

_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")


def validate_resource_quota(quota) -> Errors:
    yield from meta.object_meta(quota, names.dns_subdomain)
    spec = quota.spec
    for name in sorted(spec.hard):
        here = f"spec.hard[{name}]"
        problem = resourcequota.resource_error(name)
        if problem:
            yield FieldError(here, problem)
            continue
        value = quantity_value(here, spec.hard[name])
        if isinstance(value, FieldError):
            yield value
        elif resourcequota.is_count(name) and value.denominator != 1:
            yield FieldError(here, f'"{spec.hard[name]}": must be a whole number')
    for index, scope in enumerate(spec.scopes):
        here = f"spec.scopes[{index}]"
        if scope not in resourcequota.SCOPES:
            yield FieldError(here, f'unsupported scope "{scope}": supported: {", ".join(resourcequota.SCOPES)}')
            continue
        problem = resourcequota.scope_error(scope, spec.hard)
        if problem:
            yield FieldError(here, problem)
    if {"Terminating", "NotTerminating"} <= set(spec.scopes) or {"BestEffort", "NotBestEffort"} <= set(spec.scopes):
        yield FieldError("spec.scopes", "conflicting scopes: a scope and its opposite match nothing")
    if spec.HasField("scope_selector"):
        yield FieldError("spec.scopeSelector", "not supported: use spec.scopes")


def validate_limit_range(limit_range) -> Errors:
    yield from meta.object_meta(limit_range, names.dns_subdomain)
    for index, item in enumerate(limit_range.spec.limits):
        yield from _item(f"spec.limits[{index}]", item)


def _item(path: str, item) -> Errors:
    yield from one_of(f"{path}.type", item.type, limitranges.TYPES, required=True)
    known = ("storage",) if item.type == limitranges.CLAIM else _CONTAINER_RESOURCES
    amounts = {}
    for field, json in (("max", "max"), ("min", "min"), ("default", "default"),
                        ("default_request", "defaultRequest"), ("max_limit_request_ratio", "maxLimitRequestRatio")):
        entries = getattr(item, field)
        if entries and item.type != limitranges.CONTAINER and field in ("default", "default_request"):
            yield FieldError(f"{path}.{json}", f"may not be set for type {item.type}")
            continue
        amounts[field] = {}
        yield from resource_amounts(f"{path}.{json}", entries, known, amounts[field])
    for name, ratio in amounts.get("max_limit_request_ratio", {}).items():
        if ratio < 1:
            yield FieldError(f"{path}.maxLimitRequestRatio[{name}]", "ratio must be greater than or equal to 1")
    order = [("min", "min"), ("default_request", "defaultRequest"), ("default", "default"), ("max", "max")]
    for low_index, (low, low_json) in enumerate(order):
        for high, high_json in order[low_index + 1:]:
            for name, low_value in amounts.get(low, {}).items():
                high_value = amounts.get(high, {}).get(name)
                if high_value is not None and low_value > high_value:
                    yield FieldError(f"{path}.{low_json}[{name}]",
                                     f"{low_json} value {getattr(item, low)[name]} is greater than "
                                     f"{high_json} value {getattr(item, high)[name]}")
