"""PodDisruptionBudgets: one of minAvailable and maxUnavailable, each a count or a percentage."""
from controlplane.api import names
from controlplane.api.errors import FieldError
from controlplane.api.validation import meta
from controlplane.api.validation.common import Errors, label_selector, one_of
from controlplane.api.validation.workloads import count_or_percent

EVICTION_POLICIES = ("IfHealthyBudget", "AlwaysAllow")


def validate_pod_disruption_budget(budget) -> Errors:
    spec = budget.spec
    yield from meta.object_meta(budget, names.dns_subdomain)
    given = [name for name, value in (("minAvailable", spec.min_available), ("maxUnavailable", spec.max_unavailable))
             if value.WhichOneof("kind") is not None]
    if len(given) > 1:
        yield FieldError("spec", "minAvailable and maxUnavailable cannot be both set")
    for name, value in (("minAvailable", spec.min_available), ("maxUnavailable", spec.max_unavailable)):
        amount = yield from count_or_percent(f"spec.{name}", value)
        if isinstance(amount, str) and int(amount[:-1]) > 100:
            yield FieldError(f"spec.{name}", f'"{amount}": must not be greater than 100%')
    yield from label_selector("spec.selector", spec.selector)
    yield from one_of("spec.unhealthyPodEvictionPolicy", spec.unhealthy_pod_eviction_policy, EVICTION_POLICIES)
