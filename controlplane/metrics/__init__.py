"""Prometheus metrics of every component: one catalog of series, one endpoint.

Each component has a module here naming its series as Kubernetes names them
(`apiserver.py`, `storage.py`, `scheduler.py`, `workqueue.py`, `kubelet.py`, `proxy.py`,
`dns.py`), so
names and labels are reviewed in one place and a component's code makes one
thin call per event. `live.py` is the collector for values read when scraped
(queue depths, cached objects, running pods) rather than counted as they
happen. `children.py` keeps each labelled child once found, for the series
every request touches. `endpoint.py` serves `/metrics` over plain HTTP for the processes that
bind `--metrics-bind-address` (loopback by default); the API server serves
the same text on its REST port, behind TLS, a token and authorization
(get on the non-resource URL /metrics).

All series live in prometheus_client's process-wide registry: one process
(`cox server` runs API server, scheduler and controllers together) has one
page of metrics, as a Kubernetes binary does.

prometheus_client's own __init__ is not run (controlplane/imports.py): it
imports its push gateway client and HTTP and WSGI servers, ~2 MB of every
process that serves metrics, where we use its series and registry and write
the page ourselves (exposition.py). The default collectors its __init__
would register (process, platform, garbage collector) are registered here,
so the page keeps the series a Prometheus user expects of any process.
"""
from controlplane.imports import without_init

without_init("prometheus_client")

from prometheus_client import gc_collector, platform_collector, process_collector  # noqa: E402,F401
