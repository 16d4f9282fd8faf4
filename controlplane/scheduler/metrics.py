"""Counters and latency histograms of the scheduler, cheap enough to keep always on.

Histograms have fixed log-spaced buckets (10 µs to ~100 s, 5% apart), so
memory stays constant however long the scheduler runs, and a percentile is
read to within 5%. The benchmark reads p50/p99 from here: per pod, from the
moment the queue hands it out to the moment the API server confirms the
binding (Kubernetes' scheduling_attempt_duration), and from first sight to
binding (its pod_scheduling_sli_duration). Each observation also goes to the
Prometheus series of the same meaning (controlplane/metrics/scheduler.py).
"""
from __future__ import annotations

import math
from collections import Counter

from controlplane.metrics import scheduler as prometheus

_LOW = 1e-5
_GROWTH = 1.05
_BUCKETS = int(math.log(1e7) / math.log(_GROWTH)) + 2


class Histogram:
    def __init__(self):
        self._counts = [0] * _BUCKETS
        self.count = 0
        self.total = 0.0
        self.max = 0.0

    def observe(self, seconds: float) -> None:
        index = 0 if seconds <= _LOW else min(int(math.log(seconds / _LOW) / math.log(_GROWTH)) + 1, _BUCKETS - 1)
        self._counts[index] += 1
        self.count += 1
        self.total += seconds
        self.max = max(self.max, seconds)

    def percentile(self, p: float) -> float:
        """The upper bound of the bucket holding the p-th percentile (0 < p <= 100), in seconds."""
        if not self.count:
            return 0.0
        rank = math.ceil(self.count * p / 100)
        seen = 0
        for index, count in enumerate(self._counts):
            seen += count
            if seen >= rank:
                return min(_LOW * _GROWTH ** index, self.max)
        return self.max

    def summary(self) -> dict:
        return {"count": self.count, "mean": self.total / self.count if self.count else 0.0,
                "p50": self.percentile(50), "p90": self.percentile(90), "p99": self.percentile(99),
                "max": self.max}


class Metrics:
    def __init__(self):
        self.attempt = Histogram()        # popped -> bound (or found unschedulable)
        self.e2e = Histogram()            # first queued -> bound
        self.algorithm = Histogram()      # find_node alone
        self.results = Counter()          # scheduled, unschedulable, error
        self.first_bound_at = 0.0         # monotonic times, for throughput
        self.last_bound_at = 0.0

    def attempted(self, result: str, seconds: float, *, profile: str) -> None:
        """One attempt ended: scheduled, unschedulable or error."""
        self.results[result] += 1
        self.attempt.observe(seconds)
        prometheus.attempted(result, profile, seconds)

    @staticmethod
    def report_pending(queue) -> None:
        """Gauge the queue's pending pods while it lives (scheduler_pending_pods)."""
        prometheus.track_queue(queue)

    def ran_algorithm(self, seconds: float) -> None:
        self.algorithm.observe(seconds)
        prometheus.ALGORITHM_DURATION.observe(seconds)

    def bound(self, now: float, *, attempt: float, since_queued: float, profile: str) -> None:
        self.attempted("scheduled", attempt, profile=profile)
        self.e2e.observe(since_queued)
        prometheus.SLI_DURATION.observe(since_queued)
        self.first_bound_at = self.first_bound_at or now
        self.last_bound_at = now

    def snapshot(self) -> dict:
        span = self.last_bound_at - self.first_bound_at
        scheduled = self.results["scheduled"]
        return {"results": dict(self.results), "attempt": self.attempt.summary(), "e2e": self.e2e.summary(),
                "algorithm": self.algorithm.summary(),
                "pods_per_second": (scheduled - 1) / span if span > 0 else 0.0}
