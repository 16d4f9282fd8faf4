"""The disruption controller: each PodDisruptionBudget's status, from the pods it selects.

The counting rules are in controlplane/api/disruption.py, shared with the
eviction endpoint that spends what this controller allows. A sync also
forgets granted evictions (status.disruptedPods) once their pod is being
deleted or gone, or after DISRUPTION_GRACE_SECONDS, and comes back then.
"""
import time

from google.protobuf.message import Message

from controlplane.api import disruption
from controlplane.api.v1 import policy_pb2
from controlplane.controllers import pods as podutil
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.ownership import clone


def compute_status(budget: Message, pods: list[Message], now: float) -> policy_pb2.PodDisruptionBudgetStatus:
    status = policy_pb2.PodDisruptionBudgetStatus(observed_generation=budget.metadata.generation)
    selected = [p for p in pods if p.status.phase not in disruption.FINISHED and disruption.selects(budget, p)]
    by_name = {p.metadata.name: p for p in selected}
    for name, when in budget.status.disrupted_pods.items():
        pod = by_name.get(name)
        if pod is not None and not podutil.is_deleting(pod) and when.seconds + disruption.DISRUPTION_GRACE_SECONDS > now:
            status.disrupted_pods[name].CopyFrom(when)
    status.expected_pods = len(selected)
    # A pod granted an eviction is healthy no more, as Kubernetes counts: currentHealthy (and the refusal
    # quoting it) matches disruptionsAllowed, and a granted unready pod is not taken off twice.
    status.current_healthy = sum(disruption.is_healthy(p) and p.metadata.name not in status.disrupted_pods
                                 for p in selected)
    status.desired_healthy = disruption.desired_healthy(budget, status.expected_pods)
    status.disruptions_allowed = max(status.current_healthy - status.desired_healthy, 0)
    allowed = status.disruptions_allowed > 0
    previous = next((c for c in budget.status.conditions if c.type == "DisruptionAllowed"), None)
    condition = status.conditions.add(type="DisruptionAllowed", status="True" if allowed else "False",
                                      reason="SufficientPods" if allowed else "InsufficientPods",
                                      observed_generation=budget.metadata.generation)
    if previous is not None and previous.status == condition.status:
        condition.last_transition_time.CopyFrom(previous.last_transition_time)
    else:
        condition.last_transition_time.seconds = int(now)
    return status


class DisruptionController(Controller):
    name = "disruption"
    workers = 2

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.budgets = ctx.informers.informer("PodDisruptionBudget")
        self.budgets.add_index(podutil.BY_NAMESPACE, podutil.index_by_namespace)
        self.pods = ctx.informers.informer("Pod")
        self.pods.add_index(podutil.BY_NAMESPACE, podutil.index_by_namespace)
        self.api = ctx.client.resource("PodDisruptionBudget")
        self.follow(self.budgets)
        self.pods.add_handler(on_add=self._pod_event, on_update=lambda _old, new: self._pod_event(new),
                              on_delete=self._pod_event)

    def _pod_event(self, pod: Message) -> None:
        for budget in self.budgets.by_index(podutil.BY_NAMESPACE, pod.metadata.namespace):
            if disruption.selects(budget, pod) or pod.metadata.name in budget.status.disrupted_pods:
                self.enqueue(budget)

    async def sync(self, key) -> None:
        namespace, name = key
        budget = self.budgets.get(name, namespace)
        if budget is None:
            return
        now = time.time()
        status = compute_status(budget, self.pods.by_index(podutil.BY_NAMESPACE, namespace), now)
        if status != budget.status:
            new = clone(budget)
            new.status.CopyFrom(status)
            await self.api.update_status(new)
        if status.disrupted_pods:
            oldest = min(t.seconds for t in status.disrupted_pods.values())
            self.queue.add_after(key, max(oldest + disruption.DISRUPTION_GRACE_SECONDS - now, 0) + 0.5)
