"""NodeMetrics and PodMetrics: what an agent's usage report may say.

Named like the objects they measure (a Node's, a Pod's name); usage in cpu
and memory quantities only; the window a duration in seconds ("15s").
"""
import re

from controlplane.api import names
from controlplane.api.errors import FieldError
from controlplane.api.validation import meta
from controlplane.api.validation.common import Errors, duplicate, resource_amounts

USAGE_RESOURCES = ("cpu", "memory")
_WINDOW = re.compile(r"\d+(\.\d+)?s$")


def _measurement(obj) -> Errors:
    if not obj.HasField("timestamp"):
        yield FieldError("timestamp", "required")
    if not _WINDOW.match(obj.window):
        yield FieldError("window", f'"{obj.window}": must be a duration in seconds, e.g. "15s"')


def validate_node_metrics(obj) -> Errors:
    yield from meta.object_meta(obj, names.dns_subdomain)
    yield from _measurement(obj)
    yield from resource_amounts("usage", obj.usage, USAGE_RESOURCES)


def validate_pod_metrics(obj) -> Errors:
    yield from meta.object_meta(obj, names.dns_subdomain)
    yield from _measurement(obj)
    seen: set = set()
    for index, container in enumerate(obj.containers):
        path = f"containers[{index}]"
        if not container.name:
            yield FieldError(f"{path}.name", "required")
        yield from duplicate(f"{path}.name", container.name, seen)
        yield from resource_amounts(f"{path}.usage", container.usage, USAGE_RESOURCES)
