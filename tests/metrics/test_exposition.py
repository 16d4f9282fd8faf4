"""Our page writer (controlplane/metrics/exposition.py) against prometheus_client's own, byte for byte.

The test process may import prometheus_client's writer (its memory does not
matter here); the processes that serve metrics do not.
"""
import prometheus_client.exposition as reference
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics import Counter, Enum, Gauge, Histogram, Info, Summary
from prometheus_client.registry import REGISTRY, CollectorRegistry

import controlplane.metrics.apiserver  # noqa: F401  (the catalog's series, registered on import)
import controlplane.metrics.dns  # noqa: F401
import controlplane.metrics.kubelet  # noqa: F401
import controlplane.metrics.proxy  # noqa: F401
import controlplane.metrics.scheduler  # noqa: F401
import controlplane.metrics.storage  # noqa: F401
import controlplane.metrics.workqueue  # noqa: F401
from controlplane.metrics import exposition


class Stamped:
    """A collector whose samples carry timestamps and names outside the legacy character set."""

    def collect(self):
        gauge = GaugeMetricFamily("stamped_value", "with a time", labels=["zone"])
        gauge.add_metric(["a"], 1.5, timestamp=1700000000.123)
        yield gauge
        counter = CounterMetricFamily("odd.name-here", "dots\\and\nlines", labels=["la.bel"])
        counter.add_metric(["x"], 3)
        yield counter


def every_kind() -> CollectorRegistry:
    registry = CollectorRegistry()
    counter = Counter("writes", "Writes, by verb.", ["verb"], registry=registry)
    counter.labels(verb="create").inc(3)
    counter.labels(verb='quote " back \\ slash \n newline, ünïcode').inc()
    Gauge("depth", "Queue depth.", registry=registry).set(1e21)
    Gauge("nothing", "No value yet.", ["kind"], registry=registry)
    histogram = Histogram("latency_seconds", "Latency.", ["op"], buckets=(0.001, 0.5, 10, 1e7), registry=registry)
    for value in (0.0005, 0.2, 3, float("inf")):
        histogram.labels(op="get").observe(value)
    Summary("sizes_bytes", "Sizes.", registry=registry).observe(1234567.0)
    Info("build", "Build facts.", registry=registry).info({"version": "1.2.3", "go": "none"})
    Enum("phase", "Phase.", states=["Pending", "Running"], registry=registry).state("Running")
    Gauge("negative", "Below zero.", registry=registry).set(-0.000001)
    Gauge("not_a_number", "NaN.", registry=registry).set(float("nan"))
    registry.register(Stamped())
    return registry


def test_every_kind_of_series_is_written_as_prometheus_client_writes_it():
    registry = every_kind()
    ours = exposition.page(registry)
    assert ours == reference.generate_latest(registry)
    assert b'writes_total{verb="quote \\" back \\\\ slash \\n newline, \xc3\xbcn\xc3\xafcode"} 1.0' in ours
    assert b"# TYPE writes_created gauge" in ours and b"odd_name_here_total{la_bel=\"x\"} 3.0" in ours


class Snapshot:
    """The families a registry collected once: the process's memory and CPU move between two collections."""

    def __init__(self, registry):
        self.families = list(registry.collect())

    def collect(self):
        return iter(self.families)


def test_the_catalog_and_the_default_collectors_are_written_as_prometheus_client_writes_them():
    snapshot = Snapshot(REGISTRY)
    ours = exposition.page(snapshot)
    assert b"process_resident_memory_bytes " in ours and b"python_info{" in ours and b"python_gc_objects_collected_total" in ours
    assert b"# TYPE apiserver_request_total counter" in ours
    assert ours == reference.generate_latest(snapshot)
    assert exposition.CONTENT_TYPE == reference.CONTENT_TYPE_LATEST
