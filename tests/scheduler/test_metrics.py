"""Latency histograms: bounded memory, percentiles within a bucket (5%)."""
from controlplane.scheduler.metrics import Histogram


def test_percentiles_are_within_five_percent():
    histogram = Histogram()
    values = [i / 10000 for i in range(1, 10001)]   # 0.1 ms .. 1 s
    for value in values:
        histogram.observe(value)
    ordered = sorted(values)
    for p in (50, 90, 99):
        exact = ordered[int(len(ordered) * p / 100) - 1]
        assert exact <= histogram.percentile(p) <= exact * 1.06
    assert histogram.summary()["count"] == len(values)
