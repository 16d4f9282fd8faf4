"""HorizontalPodAutoscaler arithmetic, as pure functions: samples and history in, replicas out.

The autoscaling controller (podautoscaler.py) reads the HPA, its target, the
target's pods and their PodMetrics from its caches, asks these functions for
the replica count, and writes it. Nothing here talks to the API, so every
rule is unit-tested directly. The rules are Kubernetes':

1. Per metric, a ratio of what is used to what is wanted: for a Utilization
   target, the pods' summed usage over their summed requests, against the
   target percentage; for an AverageValue target, the mean usage per pod
   against the target quantity. Within 10% of 1 nothing changes; else
   ceil(ratio x pods measured). Pods without a measurement yet, and pods not
   Ready, are then counted conservatively: as using nothing when scaling up,
   as using exactly the target when scaling down (missing ones only); a
   change those assumptions would reverse or bring within tolerance is
   dropped. The largest proposal of all metrics wins.
2. Stabilization: the proposal is held between the lowest of the
   recommendations made within the scale-up window and the highest within
   the scale-down window (defaults 0 s and 300 s), so one dip does not
   remove pods a minute before they are needed again.
3. Rate limits (behavior policies): within each policy's period, at most
   `value` pods or `value` percent more (fewer) than at the period's start;
   selectPolicy Max takes the policy allowing the largest change, Min the
   smallest, Disabled none. Then min/maxReplicas.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Iterable

TOLERANCE = 0.1
UP, DOWN = "up", "down"
PODS, PERCENT = "Pods", "Percent"
MAX, MIN, DISABLED = "Max", "Min", "Disabled"


@dataclasses.dataclass(frozen=True)
class Rules:
    window: int                                   # stabilization window, seconds
    select: str                                   # Max, Min, Disabled
    policies: tuple[tuple[str, int, int], ...]    # (Pods|Percent, value, period seconds)


DEFAULT_RULES = {UP: Rules(window=0, select=MAX, policies=((PODS, 4, 15), (PERCENT, 100, 15))),
                 DOWN: Rules(window=300, select=MAX, policies=((PERCENT, 100, 15),))}


@dataclasses.dataclass(frozen=True)
class PodSample:
    usage: int | None     # millicores or bytes; None: no measurement yet
    request: int          # of the metric's resource, summed over the pod's containers; 0: none
    ready: bool


@dataclasses.dataclass(frozen=True)
class Proposal:
    replicas: int
    utilization: int | None = None    # percent, for a Utilization target
    average: int | None = None        # per pod, for status


class MetricError(Exception):
    """No proposal can be made from this metric (the reason is the HPA's condition message)."""


def _ratio(pods: list[PodSample], *, utilization: int | None, average: int | None) -> tuple[float, int | None, int]:
    """(usage ratio, utilization percent, mean usage) of measured pods."""
    used = sum(p.usage for p in pods)
    mean = used // len(pods)
    if utilization is not None:
        requested = sum(p.request for p in pods)
        percent = used * 100 // requested
        return used * 100 / requested / utilization, percent, mean
    return mean / average, None, mean


def propose(current: int, pods: Iterable[PodSample], *, resource: str, utilization: int | None = None,
            average: int | None = None) -> Proposal:
    """Replicas one Resource metric asks for (exactly one of utilization, average is the target)."""
    pods = list(pods)
    measured = [p for p in pods if p.usage is not None and p.ready]
    missing = [p for p in pods if p.usage is None]
    unready = [p for p in pods if p.usage is not None and not p.ready]
    if not measured:
        raise MetricError(f"no {resource} usage reported yet for the target's ready pods")
    if utilization is not None and any(p.request <= 0 for p in measured + missing):
        raise MetricError(f"missing request for {resource}")
    ratio, percent, mean = _ratio(measured, utilization=utilization, average=average)
    if not missing and not unready:
        if abs(ratio - 1) <= TOLERANCE:
            return Proposal(current, percent, mean)
        return Proposal(math.ceil(ratio * len(measured)), percent, mean)
    target_usage = (lambda p: p.request * utilization // 100) if utilization is not None else (lambda p: average)
    if ratio < 1:
        assumed = measured + [dataclasses.replace(p, usage=target_usage(p)) for p in missing]
    else:
        assumed = measured + [dataclasses.replace(p, usage=0) for p in missing + unready]
    new_ratio, _, _ = _ratio(assumed, utilization=utilization, average=average)
    if abs(new_ratio - 1) <= TOLERANCE or (ratio < 1) != (new_ratio < 1):
        return Proposal(current, percent, mean)
    replicas = math.ceil(new_ratio * len(assumed))
    if (ratio < 1 and replicas > current) or (ratio > 1 and replicas < current):
        return Proposal(current, percent, mean)
    return Proposal(replicas, percent, mean)


def stabilize(current: int, desired: int, recommendations: list[tuple[float, int]], *, now: float,
              up_window: int, down_window: int) -> int:
    """`desired` held between the lowest recommendation of the scale-up window and the highest of the
    scale-down window; `recommendations` is (time, replicas) of earlier rounds."""
    up_bound = min([r for t, r in recommendations if t > now - up_window] + [desired])
    down_bound = max([r for t, r in recommendations if t > now - down_window] + [desired])
    return min(max(current, up_bound), down_bound)


def _changed_within(events: list[tuple[float, int]], *, now: float, period: int, direction: str) -> int:
    """Pods added (up) or removed (down) within the last `period` seconds; events are (time, change)."""
    if direction == UP:
        return sum(change for t, change in events if t > now - period and change > 0)
    return -sum(change for t, change in events if t > now - period and change < 0)


def limit(current: int, rules: Rules, events: list[tuple[float, int]], *, now: float, direction: str) -> int:
    """The most (up) or fewest (down) replicas the policies allow now."""
    if rules.select == DISABLED:
        return current
    bounds = []
    for kind, value, period in rules.policies:
        moved = _changed_within(events, now=now, period=period, direction=direction)
        if direction == UP:
            start = current - moved
            bounds.append(start + value if kind == PODS else math.ceil(start * (1 + value / 100)))
        else:
            start = current + moved
            bounds.append(start - value if kind == PODS else int(start * (1 - value / 100)))
    if not bounds:
        return current
    most_change, least_change = (max(bounds), min(bounds)) if direction == UP else (min(bounds), max(bounds))
    return most_change if rules.select == MAX else least_change


@dataclasses.dataclass(frozen=True)
class Decision:
    replicas: int
    limited: str = ""     # why the proposal was cut (ScalingLimited's reason), or ""


def decide(current: int, proposed: int, *, min_replicas: int, max_replicas: int, rules: dict[str, Rules],
           recommendations: list[tuple[float, int]], events: list[tuple[float, int]], now: float) -> Decision:
    """The replica count to set: stabilized, rate-limited, within min/max."""
    wanted = stabilize(current, proposed, recommendations, now=now, up_window=rules[UP].window,
                       down_window=rules[DOWN].window)
    replicas, limited = wanted, ""
    if wanted > current:
        allowed = limit(current, rules[UP], events, now=now, direction=UP)
        if allowed < wanted:
            replicas, limited = max(allowed, current), "ScaleUpLimit"
    elif wanted < current:
        allowed = limit(current, rules[DOWN], events, now=now, direction=DOWN)
        if allowed > wanted:
            replicas, limited = min(allowed, current), "ScaleDownLimit"
    if replicas > max_replicas:
        replicas, limited = max_replicas, "TooManyReplicas"
    elif replicas < min_replicas:
        replicas, limited = min_replicas, "TooFewReplicas"
    return Decision(replicas, limited)


def rules_of(behavior) -> dict[str, Rules]:
    """The HPA's behavior with Kubernetes' defaults for what it leaves out."""
    found = {}
    for direction, field in ((UP, "scale_up"), (DOWN, "scale_down")):
        default = DEFAULT_RULES[direction]
        given = getattr(behavior, field)
        if not behavior.HasField(field):
            found[direction] = default
            continue
        found[direction] = Rules(
            window=(given.stabilization_window_seconds if given.HasField("stabilization_window_seconds")
                    else default.window),
            select=given.select_policy or MAX,
            policies=tuple((p.type, p.value, p.period_seconds) for p in given.policies) or default.policies)
    return found


def forget_before(history: list[tuple[float, int]], horizon: float) -> list[tuple[float, int]]:
    return [(t, value) for t, value in history if t > horizon]
