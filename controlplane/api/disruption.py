"""PodDisruptionBudget rules shared by the disruption controller and the API server's eviction.

The controller counts, for each budget, the pods it selects (expected), the
healthy ones among them (Ready, not being deleted) and how many must stay
healthy (desired: minAvailable, or expected minus maxUnavailable;
percentages of expected, rounded up); disruptionsAllowed is what is left
above desired, less the evictions already granted whose pods are not gone
yet (status.disruptedPods). The eviction endpoint grants an eviction only
while disruptionsAllowed > 0 and takes one from it in the same write, so two
evictions never spend the same disruption. Kubernetes counts expected pods
from the owners' replicas; here they are the selected pods themselves.
"""
import math
from dataclasses import dataclass

from google.protobuf.message import Message

from controlplane.api import selectors

FINISHED = ("Succeeded", "Failed")
DISRUPTION_GRACE_SECONDS = 120   # a granted eviction whose pod is not deleted by then is forgotten


def selects(budget: Message, pod: Message) -> bool:
    """An unset selector selects nothing, an empty one every pod of the namespace (policy/v1)."""
    if budget.metadata.namespace != pod.metadata.namespace or not budget.spec.HasField("selector"):
        return False
    return selectors.from_label_selector(budget.spec.selector).matches(pod.metadata.labels)


def is_healthy(pod: Message) -> bool:
    ready = next((c for c in pod.status.conditions if c.type == "Ready"), None)
    return ready is not None and ready.status == "True" and not pod.metadata.HasField("deletion_timestamp")


def _scaled(value: Message, total: int) -> int:
    if value.WhichOneof("kind") == "string_value":
        return math.ceil(int(value.string_value.rstrip("%")) * total / 100)
    return int(value.number_value)


def desired_healthy(budget: Message, expected: int) -> int:
    spec = budget.spec
    if spec.min_available.WhichOneof("kind") is not None:
        return _scaled(spec.min_available, expected)
    if spec.max_unavailable.WhichOneof("kind") is not None:
        return max(expected - _scaled(spec.max_unavailable, expected), 0)
    return expected


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    spend: bool = False   # take one from disruptionsAllowed
    reason: str = ""


def eviction_verdict(budget: Message, pod: Message) -> Verdict:
    """May `pod`, which `budget` selects, be evicted now?"""
    status = budget.status
    if status.observed_generation < budget.metadata.generation:
        return Verdict(False, reason="the disruption budget is still being processed by the server")
    if not is_healthy(pod):
        # an unhealthy pod costs the budget nothing; it may go if the budget is met anyway
        if budget.spec.unhealthy_pod_eviction_policy == "AlwaysAllow" or \
                status.current_healthy >= status.desired_healthy:
            return Verdict(True)
    if status.disruptions_allowed <= 0:
        return Verdict(False, reason=f"Cannot evict pod as it would violate the pod's disruption budget. "
                                     f"The disruption budget {budget.metadata.name} needs {status.desired_healthy} "
                                     f"healthy pods and has {status.current_healthy} currently")
    return Verdict(True, spend=True)
