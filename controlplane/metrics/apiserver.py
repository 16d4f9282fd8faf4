"""The API server's series, as kube-apiserver names them.

Requests are counted by Kubernetes verb (GET LIST WATCH POST PUT PATCH DELETE
CONNECT), resource, subresource and HTTP code, whether they came over gRPC or
REST: the gRPC handlers' verbs and status codes are translated here. Watches,
logs and exec are long-running: counted when they end, gauged while open,
and kept out of the duration histogram (as Kubernetes keeps them out of its
latency objectives). Cached objects per resource are read when scraped.
"""
from __future__ import annotations

import time

import grpc
from prometheus_client.metrics import Counter, Gauge, Histogram

from controlplane.apiserver.rest.status import http_code
from controlplane.metrics.children import child
from controlplane.metrics.live import LiveGauge

# The gRPC handlers' verbs (authz.attributes) and the REST routes' -> (Kubernetes verb, subresource).
VERBS = {
    "get": ("GET", ""), "list": ("LIST", ""), "watch": ("WATCH", ""), "create": ("POST", ""),
    "update": ("PUT", ""), "patch": ("PATCH", ""), "update_status": ("PUT", "status"), "delete": ("DELETE", ""),
    "bind": ("POST", "binding"), "log": ("CONNECT", "log"), "exec": ("CONNECT", "exec"),
    "proxyrules": ("GET", "proxyrules"),
}
LONG_RUNNING = frozenset({"WATCH", "CONNECT"})
# kube-apiserver's buckets: 5 ms to 60 s.
_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60)

REQUESTS = Counter("apiserver_request_total", "API requests by verb, resource, subresource and HTTP code",
                   ["verb", "resource", "subresource", "code"])
DURATION = Histogram("apiserver_request_duration_seconds",
                     "Latency of API requests that are not long-running, by verb, resource and subresource",
                     ["verb", "resource", "subresource"], buckets=_BUCKETS)
OPEN = Gauge("apiserver_longrunning_requests", "Long-running requests (watches, logs, exec) open now",
             ["verb", "resource", "subresource"])
STORAGE_OBJECTS = LiveGauge("apiserver_storage_objects", "Objects of each resource in the API server's cache",
                            ("resource",))


def kubernetes_verb(verb: str, subresource: str = "") -> tuple[str, str]:
    found, implied = VERBS.get(verb, (verb.upper(), ""))
    return found, subresource or implied


class Request:
    """One request being served: `done(code)` when it ends, with its HTTP code."""

    __slots__ = ("_labels", "_started", "_long")

    def __init__(self, verb: str, resource: str, subresource: str = ""):
        verb, subresource = kubernetes_verb(verb, subresource)
        self._labels = (verb, resource, subresource)
        self._started = time.perf_counter()
        self._long = verb in LONG_RUNNING
        if self._long:
            child(OPEN, *self._labels).inc()

    def done(self, code: int) -> None:
        verb = self._labels[0]
        if verb == "POST" and code == 200:
            code = 201
        child(REQUESTS, *self._labels, str(code)).inc()
        if self._long:
            child(OPEN, *self._labels).dec()
        else:
            child(DURATION, *self._labels).observe(time.perf_counter() - self._started)

    def done_grpc(self, code: grpc.StatusCode | None) -> None:
        self.done(200 if code in (None, grpc.StatusCode.OK) else http_code(code))


def track_cache(cache, resource: str) -> None:
    """Report the number of objects in a watch cache as apiserver_storage_objects{resource}."""
    STORAGE_OBJECTS.track(cache, lambda c: {(resource,): float(c.count())})
