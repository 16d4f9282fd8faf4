"""The HorizontalPodAutoscaler controller: reads usage, asks autoscaling.py, sets the target's replicas.

Every HPA is looked at when it changes and then every sync period (15 s by
default, --horizontal-pod-autoscaler-sync-period). Its target (a Deployment
or ReplicaSet) gives the replica count and the pod selector; the target's
active pods give the requests; their PodMetrics (reported by the agents)
give the usage. The arithmetic (autoscaling.py) proposes, stabilizes and
rate-limits; this module writes the new count to the target's spec.replicas
and the HPA's status, and keeps, per HPA, the recommendations and scale
events of the last windows in memory, as Kubernetes' controller does (a
restarted controller starts with none: it may scale down sooner once).
"""
from __future__ import annotations

import time

from google.protobuf.message import Message

from controlplane.api import quantity, selectors
from controlplane.client import errors
from controlplane.controllers import autoscaling, pods as podutil
from controlplane.controllers.autoscaling import MetricError, PodSample
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.conditions import set_condition

TARGET_KINDS = ("Deployment", "ReplicaSet")
_UNITS = {"cpu": quantity.millicores, "memory": quantity.to_int}


def _amount(resource: str, text: str) -> int:
    return _UNITS[resource](text) if text else 0


def pod_sample(pod: Message, metrics: Message | None, resource: str) -> PodSample:
    request = sum(_amount(resource, c.resources.requests.get(resource, "")) for c in pod.spec.containers)
    usage = None if metrics is None else sum(_amount(resource, c.usage.get(resource, "")) for c in metrics.containers)
    return PodSample(usage=usage, request=request, ready=podutil.is_ready(pod))


class HorizontalPodAutoscalerController(Controller):
    name = "horizontalpodautoscaling"
    workers = 2

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.period = ctx.options.hpa_sync_period
        self.hpas = ctx.informers.informer("HorizontalPodAutoscaler")
        self.targets = {kind: ctx.informers.informer(kind) for kind in TARGET_KINDS}
        self.pods = ctx.informers.informer("Pod")
        self.pods.add_index(podutil.BY_NAMESPACE, podutil.index_by_namespace)
        self.metrics = ctx.informers.informer("PodMetrics")
        self.hpa_api = ctx.client.resource("HorizontalPodAutoscaler")
        self._recommendations: dict[tuple, list[tuple[float, int]]] = {}
        self._events: dict[tuple, list[tuple[float, int]]] = {}
        self.follow(self.hpas)

    async def sync(self, key) -> None:
        namespace, name = key
        hpa = self.hpas.get(name, namespace)
        if hpa is None:
            self._recommendations.pop(key, None)
            self._events.pop(key, None)
            return
        try:
            await self._reconcile(key, hpa)
        finally:
            self.queue.add_after(key, self.period)

    async def _reconcile(self, key, hpa: Message) -> None:
        now = time.time()
        status = type(hpa.status)()
        status.CopyFrom(hpa.status)
        ref = hpa.spec.scale_target_ref
        target = self.targets[ref.kind].get(ref.name, hpa.metadata.namespace) if ref.kind in self.targets else None
        if target is None:
            set_condition(status, "AbleToScale", "False", "FailedGetScale",
                          f'the HPA controller was unable to get the target\'s current scale: {ref.kind} '
                          f'"{ref.name}" not found', now)
            await self._write_status(hpa, status)
            return
        current = target.spec.replicas
        status.current_replicas = current
        set_condition(status, "AbleToScale", "True", "SucceededGetScale",
                      "the HPA controller was able to get the target's current scale", now)
        if current == 0:
            set_condition(status, "ScalingActive", "False", "ScalingDisabled",
                          "scaling is disabled since the replica count of the target is zero", now)
            status.desired_replicas = 0
            await self._write_status(hpa, status)
            return
        try:
            proposed, reason = self._propose(hpa, target, current, status)
        except MetricError as e:
            set_condition(status, "ScalingActive", "False", "FailedGetResourceMetric", str(e), now)
            await self._write_status(hpa, status)
            return
        set_condition(status, "ScalingActive", "True", "ValidMetricFound",
                      f"the HPA was able to successfully calculate a replica count from {reason}", now)
        rules = autoscaling.rules_of(hpa.spec.behavior)
        recommendations = self._recommendations.setdefault(key, [])
        events = self._events.setdefault(key, [])
        decision = autoscaling.decide(
            current, proposed, min_replicas=hpa.spec.min_replicas or 1, max_replicas=hpa.spec.max_replicas,
            rules=rules, recommendations=recommendations, events=events, now=now)
        set_condition(status, "ScalingLimited", "True" if decision.limited else "False",
                      decision.limited or "DesiredWithinRange",
                      f"the desired count is limited ({decision.limited})" if decision.limited
                      else "the desired count is within the acceptable range", now)
        status.desired_replicas = decision.replicas
        if decision.replicas != current:
            await self._scale(target, decision.replicas)
            events.append((now, decision.replicas - current))
            status.last_scale_time.seconds = int(now)
            direction = "above" if decision.replicas > current else "below"
            self.recorder.event(hpa, "Normal", "SuccessfulRescale",
                                f"New size: {decision.replicas}; reason: {reason} {direction} target")
        self._remember(key, rules, now=now, proposed=proposed)
        status.observed_generation = hpa.metadata.generation
        await self._write_status(hpa, status)

    def _propose(self, hpa: Message, target: Message, current: int, status: Message) -> tuple[int, str]:
        """The largest proposal of the HPA's metrics, and which metric made it; status.currentMetrics set."""
        selector = selectors.from_label_selector(target.spec.selector)
        active = [p for p in self.pods.by_index(podutil.BY_NAMESPACE, hpa.metadata.namespace)
                  if podutil.is_active(p) and selector.matches(p.metadata.labels)]
        if not active:
            raise MetricError("no pods of the target to measure")
        best, reason = -1, ""
        del status.current_metrics[:]
        for metric in hpa.spec.metrics:
            resource, target_spec = metric.resource.name, metric.resource.target
            samples = [pod_sample(p, self.metrics.get(p.metadata.name, p.metadata.namespace), resource)
                       for p in active]
            utilization = (target_spec.average_utilization if target_spec.type == "Utilization" else None)
            average = None if utilization is not None else _amount(resource, target_spec.average_value)
            proposal = autoscaling.propose(current, samples, resource=resource, utilization=utilization,
                                           average=average)
            current_status = status.current_metrics.add(type="Resource", resource={"name": resource})
            if proposal.utilization is not None:
                current_status.resource.current.average_utilization = proposal.utilization
            current_status.resource.current.average_value = (
                quantity.format_millicores(proposal.average) if resource == "cpu"
                else quantity.format_bytes(proposal.average))
            if proposal.replicas > best:
                kind = "utilization (percentage of request)" if utilization is not None else "average value"
                best, reason = proposal.replicas, f"{resource} resource {kind}"
        return best, reason

    def _remember(self, key, rules, *, now: float, proposed: int) -> None:
        """Keep this round's proposal; forget what has left every window and period."""
        longest = max(rules[autoscaling.UP].window, rules[autoscaling.DOWN].window)
        self._recommendations[key] = autoscaling.forget_before(self._recommendations[key], now - longest)
        self._recommendations[key].append((now, proposed))
        period = max((p for r in rules.values() for _, _, p in r.policies), default=0)
        self._events[key] = autoscaling.forget_before(self._events[key], now - period)

    async def _scale(self, target: Message, replicas: int) -> None:
        updated = type(target)()
        updated.CopyFrom(target)
        updated.spec.replicas = replicas
        await self.ctx.client.resource(target.DESCRIPTOR.name).update(updated)

    async def _write_status(self, hpa: Message, status: Message) -> None:
        """Write `status`; on a Conflict (the spec moved meanwhile, e.g. a user's apply), onto a fresh read:
        the status is this controller's alone, and a rescale already made must not lose its lastScaleTime.
        observedGeneration stays the one the status was computed from."""
        if status == hpa.status:
            return
        updated = type(hpa)()
        updated.CopyFrom(hpa)
        updated.status.CopyFrom(status)
        try:
            await self.hpa_api.update_status(updated)
        except errors.Conflict:
            updated = await self.hpa_api.get(hpa.metadata.name, namespace=hpa.metadata.namespace)
            updated.status.CopyFrom(status)
            await self.hpa_api.update_status(updated)
