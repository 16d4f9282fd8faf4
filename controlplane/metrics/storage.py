"""The API server's calls to its store, as kube-apiserver names its calls to etcd.

`MeasuredStore` wraps the backend (below encryption, so a Secret's
encryption is not counted as the store's time) and times each request:
`etcd_request_duration_seconds{operation, type}` and `etcd_requests_total`,
`etcd_request_errors_total` for the ones that raised, whichever backend
(SQLite or etcd) is underneath. `type` is the resource, from the key
(`/registry/pods/...` -> pods); `operation` is Kubernetes': get, list,
create, update, delete (a put with no condition is an update), compact,
and the lease calls. Watches are long-running and only passed through.
"""
from __future__ import annotations

import time

from prometheus_client.metrics import Counter, Histogram

from controlplane.metrics.children import child
from controlplane.store import KeyValue, RangeResult, Store, Watch, WriteResult

_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60)
_LABELS = ["operation", "type"]
DURATION = Histogram("etcd_request_duration_seconds", "Latency of the API server's store requests, by operation "
                     "and resource", _LABELS, buckets=_BUCKETS)
REQUESTS = Counter("etcd_requests_total", "The API server's store requests, by operation and resource", _LABELS)
ERRORS = Counter("etcd_request_errors_total", "The API server's store requests that failed", _LABELS)
_ROOT = "/registry/"


def resource_of(key: str) -> str:
    """`/registry/<resource>/...` -> resource; another key -> its first segment."""
    rest = key[len(_ROOT):] if key.startswith(_ROOT) else key.lstrip("/")
    return rest.partition("/")[0]


class _Timed:
    """`with _Timed(operation, type):` around one store call."""

    __slots__ = ("_labels", "_started")

    def __init__(self, operation: str, type_: str):
        self._labels = (operation, type_)

    def __enter__(self):
        self._started = time.perf_counter()

    def __exit__(self, kind, value, traceback):
        child(DURATION, *self._labels).observe(time.perf_counter() - self._started)
        child(REQUESTS, *self._labels).inc()
        if kind is not None:
            child(ERRORS, *self._labels).inc()


class MeasuredStore(Store):
    def __init__(self, backend: Store):
        self.backend = backend
        self.name = backend.name

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        with _Timed("get", resource_of(key)):
            return await self.backend.get(key, revision=revision)

    async def range(self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = "") -> RangeResult:
        with _Timed("list", resource_of(prefix)):
            return await self.backend.range(prefix, revision=revision, limit=limit, start_after=start_after)

    async def current_revision(self) -> int:
        with _Timed("getRevision", ""):
            return await self.backend.current_revision()

    async def put(self, key: str, value: bytes, *, expect_mod_revision: int | None, lease: int = 0) -> WriteResult:
        with _Timed("create" if expect_mod_revision == 0 else "update", resource_of(key)):
            return await self.backend.put(key, value, expect_mod_revision=expect_mod_revision, lease=lease)

    async def delete(self, key: str, *, expect_mod_revision: int | None = None) -> WriteResult:
        with _Timed("delete", resource_of(key)):
            return await self.backend.delete(key, expect_mod_revision=expect_mod_revision)

    async def watch(self, prefix: str, *, start_revision: int) -> Watch:
        return await self.backend.watch(prefix, start_revision=start_revision)

    async def compact(self, revision: int) -> None:
        with _Timed("compact", ""):
            await self.backend.compact(revision)

    async def grant_lease(self, ttl_seconds: int) -> int:
        with _Timed("grantLease", ""):
            return await self.backend.grant_lease(ttl_seconds)

    async def keep_alive(self, lease: int) -> None:
        with _Timed("keepAlive", ""):
            await self.backend.keep_alive(lease)

    async def revoke_lease(self, lease: int) -> None:
        with _Timed("revokeLease", ""):
            await self.backend.revoke_lease(lease)

    async def close(self) -> None:
        await self.backend.close()
