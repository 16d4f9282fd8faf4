"""Pod statuses, kept here and written to the API server when they change.

Pod workers hand in a status after every sync; this keeps the latest per
pod and one task writes the ones that differ from what the API server has
(several at a time), so a steady pod costs no writes and a burst of changes
to one pod costs one write with the newest. Writes are conditional on the resourceVersion the
pod informer saw, and re-read on conflict, so a status never lands on a
different pod that reused the name. Static pods' statuses go to their
mirror pods. While the API server is away, statuses wait here and are
written when it is back.
"""
import asyncio
import logging
import time
from collections.abc import Callable

from google.protobuf.message import Message

from agent.kubelet.static import HASH_ANNOTATION
from controlplane.api.wellknown import MIRROR_POD_ANNOTATION
from controlplane.client import Client
from controlplane.client.errors import ApiError, Conflict, NotFound

log = logging.getLogger(__name__)

CONCURRENT_WRITES = 8   # a burst of pods starting is written in parallel, not one by one

Lookup = Callable[[str, str], Message | None]   # (namespace, name) → the API's copy of a pod


class StatusManager:
    def __init__(self, client: Client | None, lookup: Lookup) -> None:
        self._client = client
        self._lookup = lookup
        self.statuses: dict[str, tuple[Message, Message]] = {}   # uid → (pod, status)
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._writing: set[str] = set()
        self._limit = asyncio.Semaphore(CONCURRENT_WRITES)
        self._task: asyncio.Task | None = None

    def set(self, pod: Message, status: Message) -> None:
        uid = pod.metadata.uid
        known = self.statuses.get(uid)
        if known is not None and known[1] == status and not self._api_differs(pod, status):
            return
        self.statuses[uid] = (pod, status)
        if self._client is not None:
            self._dirty.add(uid)
            self._wake.set()

    def _api_differs(self, pod: Message, status: Message) -> bool:
        target = self._target(pod, self._lookup(pod.metadata.namespace, pod.metadata.name))
        return target is not None and target.status != status

    def status(self, uid: str) -> Message | None:
        known = self.statuses.get(uid)
        return known[1] if known else None

    def forget(self, uid: str) -> None:
        self.statuses.pop(uid, None)
        self._dirty.discard(uid)

    def resync(self) -> None:
        """Compare every known status with the API server again (after an outage or relist)."""
        self._dirty.update(self.statuses)
        if self._dirty and self._client is not None:
            self._wake.set()

    async def flush(self, uid: str, timeout: float = 5.0) -> None:
        """Wait (a bounded time) until the pod's pending status is written."""
        deadline = time.monotonic() + timeout
        while (uid in self._dirty or uid in self._writing) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    def start(self) -> None:
        if self._client is not None and self._task is None:
            self._task = asyncio.create_task(self._run(), name="pod-status")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        delay = 0.2
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch = list(self._dirty)
            self._dirty.difference_update(batch)
            self._writing.update(batch)
            results = await asyncio.gather(*(self._write_limited(uid) for uid in batch))
            if not all(results):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                self._wake.set()
            else:
                delay = 0.2

    async def _write_limited(self, uid: str) -> bool:
        """Write one pod's status, at most CONCURRENT_WRITES at a time; False to retry later."""
        async with self._limit:
            try:
                await self._write(uid)
                return True
            except ApiError as e:
                log.info("pod status write for %s failed: %s", uid, e)
                self._dirty.add(uid)
                return False
            except Exception:   # a bug: keep the status, keep the writer
                log.exception("pod status write for %s failed", uid)
                self._dirty.add(uid)
                return False
            finally:
                self._writing.discard(uid)

    async def _write(self, uid: str) -> None:
        known = self.statuses.get(uid)
        if known is None:
            return
        pod, status = known
        pods = self._client.resource("Pod")
        target = self._target(pod, self._lookup(pod.metadata.namespace, pod.metadata.name))
        for _ in range(3):
            if target is None or target.status == status:
                return
            update = type(pod)(metadata=dict(name=target.metadata.name, namespace=target.metadata.namespace,
                                             uid=target.metadata.uid,
                                             resource_version=target.metadata.resource_version),
                               status=status)
            try:
                began = time.monotonic()
                await pods.update_status(update)
                log.debug("pod %s/%s: status %s written in %.0f ms", update.metadata.namespace,
                          update.metadata.name, status.phase, (time.monotonic() - began) * 1000)
                return
            except Conflict:
                try:
                    target = self._target(pod, await pods.get(pod.metadata.name, namespace=pod.metadata.namespace))
                except NotFound:
                    return
            except NotFound:
                return

    @staticmethod
    def _target(pod: Message, found: Message | None) -> Message | None:
        """The API pod to write `pod`'s status to: itself, or for a static pod its mirror."""
        if found is None:
            return None
        if HASH_ANNOTATION in pod.metadata.annotations and MIRROR_POD_ANNOTATION in found.metadata.annotations:
            mine = found.metadata.annotations[MIRROR_POD_ANNOTATION] == pod.metadata.annotations[HASH_ANNOTATION]
            return found if mine else None
        return found if found.metadata.uid == pod.metadata.uid else None
