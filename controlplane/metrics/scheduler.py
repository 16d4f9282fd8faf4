"""The scheduler's series, as kube-scheduler names them.

Results are `scheduled`, `unschedulable` or `error`; an attempt runs from the
queue handing a pod out to the binding confirmed (or the pod found
unschedulable); the SLI duration from the pod first queued to bound. Pending
pods per queue (active, backoff, unschedulable, in-flight) are read
when scraped.
"""
from __future__ import annotations

from prometheus_client.metrics import Counter, Histogram

from controlplane.metrics.live import LiveGauge

# kube-scheduler's: exponential from 1 ms, doubling, 15 buckets (to ~16 s).
_BUCKETS = tuple(0.001 * 2 ** i for i in range(15))

ATTEMPTS = Counter("scheduler_schedule_attempts_total", "Attempts to schedule pods, by result and profile",
                   ["result", "profile"])
ATTEMPT_DURATION = Histogram("scheduler_scheduling_attempt_duration_seconds",
                             "Scheduling attempt latency (algorithm and binding), by result and profile",
                             ["result", "profile"], buckets=_BUCKETS)
ALGORITHM_DURATION = Histogram("scheduler_scheduling_algorithm_duration_seconds",
                               "Latency of the filter and score phases", buckets=_BUCKETS)
SLI_DURATION = Histogram("scheduler_pod_scheduling_sli_duration_seconds",
                         "Latency from a pod first queued to bound", buckets=_BUCKETS)
PENDING = LiveGauge("scheduler_pending_pods", "Pending pods, by queue (active, backoff, unschedulable, in-flight)",
                    ("queue",))


def attempted(result: str, profile: str, seconds: float) -> None:
    ATTEMPTS.labels(result, profile).inc()
    ATTEMPT_DURATION.labels(result, profile).observe(seconds)


def track_queue(queue) -> None:
    PENDING.track(queue, lambda q: {(where,): float(n) for where, n in q.counts().items()})
