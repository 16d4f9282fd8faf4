"""The controllers' work queues, as client-go's workqueue names its series (label `name`: the queue's).

Adds and the time a key waited and was worked on are counted as they happen;
the depth is read when scraped.
"""
from __future__ import annotations

from prometheus_client.metrics import Counter, Histogram

from controlplane.metrics.live import LiveGauge

# client-go's: 10 ns to 10 s, by tens.
_BUCKETS = tuple(10.0 ** e for e in range(-8, 2))

ADDS = Counter("workqueue_adds_total", "Keys added to the work queue", ["name"])
RETRIES = Counter("workqueue_retries_total", "Keys added again after a failure, with back-off", ["name"])
QUEUE_DURATION = Histogram("workqueue_queue_duration_seconds", "Time a key waits in the queue before a worker takes it",
                           ["name"], buckets=_BUCKETS)
WORK_DURATION = Histogram("workqueue_work_duration_seconds", "Time a worker spends on one key", ["name"],
                          buckets=_BUCKETS)
DEPTH = LiveGauge("workqueue_depth", "Keys waiting in the work queue", ("name",))


class QueueMetrics:
    """One queue's series, with its label bound once (children are cheaper than labels() per event)."""

    __slots__ = ("adds", "retries", "waited", "worked")

    def __init__(self, queue, name: str):
        self.adds = ADDS.labels(name)
        self.retries = RETRIES.labels(name)
        self.waited = QUEUE_DURATION.labels(name)
        self.worked = WORK_DURATION.labels(name)
        DEPTH.track(queue, lambda q: {(name,): float(len(q))})
