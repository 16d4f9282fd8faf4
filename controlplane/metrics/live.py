"""Gauges read when scraped, summed over the live objects that report them.

A queue depth or a count of cached objects is cheaper to read at scrape time
than to keep current on every change. One process may hold several of the
reporting objects (tests embed several API servers or kubelets, the
controller manager restarts its controllers each leader term), so each is
tracked weakly and the values of those still alive are summed per label set.
"""
from __future__ import annotations

import weakref
from typing import Callable, Mapping

from prometheus_client.registry import REGISTRY
from prometheus_client.metrics_core import GaugeMetricFamily

Reading = Mapping[tuple[str, ...], float]   # label values -> value


class LiveGauge:
    def __init__(self, name: str, documentation: str, labels: tuple[str, ...] = ()):
        self.name = name
        self.documentation = documentation
        self.labels = labels
        self._sources: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        REGISTRY.register(self)

    def track(self, owner: object, read: Callable[[object], Reading | float]) -> None:
        """Report `read(owner)` while `owner` lives (a float when the gauge has no labels).

        `read` must not hold `owner` itself (a bound method would keep it alive)."""
        self._sources[owner] = read

    def describe(self):
        return [GaugeMetricFamily(self.name, self.documentation, labels=list(self.labels))]

    def collect(self):
        totals: dict[tuple[str, ...], float] = {}
        for owner, read in list(self._sources.items()):
            value = read(owner)
            for key, amount in (value.items() if isinstance(value, Mapping) else (((), value),)):
                totals[key] = totals.get(key, 0.0) + amount
        family = GaugeMetricFamily(self.name, self.documentation, labels=list(self.labels))
        for key, amount in sorted(totals.items()):
            family.add_metric(list(key), amount)
        yield family
