"""HorizontalPodAutoscaler (autoscaling/v2): Kubernetes' rules for the subset supported.

Targets: Deployments and ReplicaSets. Metrics: type Resource (cpu, memory)
with a Utilization or AverageValue target; the other metric types (Pods,
Object, External, ContainerResource) need metrics this cluster does not
collect, so they are refused by name rather than ignored.
"""
from controlplane.api import names
from controlplane.api.errors import FieldError
from controlplane.api.validation import meta
from controlplane.api.validation.common import Errors, at_least, between, one_of, quantity_value

TARGET_KINDS = ("Deployment", "ReplicaSet")
RESOURCES = ("cpu", "memory")
MAX_WINDOW_SECONDS = 3600
MAX_PERIOD_SECONDS = 1800


def validate_horizontal_pod_autoscaler(hpa) -> Errors:
    yield from meta.object_meta(hpa, names.dns_subdomain)
    spec = hpa.spec
    ref = spec.scale_target_ref
    yield from one_of("spec.scaleTargetRef.kind", ref.kind, TARGET_KINDS, required=True)
    if not ref.name:
        yield FieldError("spec.scaleTargetRef.name", "required")
    minimum = spec.min_replicas if spec.HasField("min_replicas") else 1
    yield from at_least("spec.minReplicas", minimum, 1)
    if spec.max_replicas < max(minimum, 1):
        yield FieldError("spec.maxReplicas", f"must be greater than or equal to minReplicas ({minimum}) and 1")
    for index, metric in enumerate(spec.metrics):
        yield from _metric(f"spec.metrics[{index}]", metric)
    for field, path in (("scale_up", "spec.behavior.scaleUp"), ("scale_down", "spec.behavior.scaleDown")):
        if spec.behavior.HasField(field):
            yield from _rules(path, getattr(spec.behavior, field))


def _metric(path: str, metric) -> Errors:
    if metric.type != "Resource":
        yield FieldError(f"{path}.type", f'"{metric.type}": only "Resource" metrics (cpu, memory) are supported')
        return
    yield from one_of(f"{path}.resource.name", metric.resource.name, RESOURCES, required=True)
    target = metric.resource.target
    here = f"{path}.resource.target"
    if target.type == "Utilization":
        if not target.HasField("average_utilization"):
            yield FieldError(f"{here}.averageUtilization", "required for a Utilization target")
        else:
            yield from at_least(f"{here}.averageUtilization", target.average_utilization, 1)
    elif target.type == "AverageValue":
        if not target.average_value:
            yield FieldError(f"{here}.averageValue", "required for an AverageValue target")
        else:
            value = quantity_value(f"{here}.averageValue", target.average_value)
            if isinstance(value, FieldError):
                yield value
            elif value <= 0:
                yield FieldError(f"{here}.averageValue", "must be greater than 0")
    else:
        yield FieldError(f"{here}.type", f'"{target.type}": must be Utilization or AverageValue')


def _rules(path: str, rules) -> Errors:
    if rules.HasField("stabilization_window_seconds"):
        yield from between(f"{path}.stabilizationWindowSeconds", rules.stabilization_window_seconds, 0,
                           MAX_WINDOW_SECONDS)
    if rules.select_policy:
        yield from one_of(f"{path}.selectPolicy", rules.select_policy, ("Max", "Min", "Disabled"))
    for index, policy in enumerate(rules.policies):
        here = f"{path}.policies[{index}]"
        yield from one_of(f"{here}.type", policy.type, ("Pods", "Percent"), required=True)
        yield from at_least(f"{here}.value", policy.value, 1)
        yield from between(f"{here}.periodSeconds", policy.period_seconds, 1, MAX_PERIOD_SECONDS)
