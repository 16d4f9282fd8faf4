"""The set of pod workers: one per pod uid this node runs or still has containers of.

Sources (the API server's pods bound to this node, static manifests) say
which pods should exist; the PLEG and the probes say when something changed.
A uid that Docker knows but no source wants is an orphan: once every source
has listed its pods (so "unknown" really means "gone"), it gets a worker with
no pod, which stops and removes what is left. Stopping the set leaves every
container running: a kubelet restart must not restart pods.
"""
import asyncio
import logging

from google.protobuf.message import Message

from agent.kubelet.podworker import Finalizer, NodeContext, PodWorker, StatusSink

log = logging.getLogger(__name__)


class PodWorkers:
    def __init__(self, ctx: NodeContext, *, on_status: StatusSink, finalize: Finalizer) -> None:
        self._ctx = ctx
        self._on_status = on_status
        self._finalize = finalize
        self._workers: dict[str, PodWorker] = {}
        self._desired: dict[str, Message] = {}
        self._stopping = False
        self.sources_ready = False    # set once every source has listed: orphans may then be removed

    def update(self, pod: Message, *, wake: bool = True) -> None:
        """The desired pod; wake=False when only its status changed (nothing for the worker to do)."""
        uid = pod.metadata.uid
        self._desired[uid] = pod
        self._worker(uid).update(pod, wake=wake or uid not in self._workers)

    def remove(self, uid: str) -> None:
        self._desired.pop(uid, None)
        worker = self._workers.get(uid)
        if worker is not None:
            worker.update(None)

    def changed(self, uid: str) -> None:
        """Docker or a probe says something about `uid` changed."""
        worker = self._workers.get(uid)
        if worker is not None:
            worker.wake()
        elif self.sources_ready and uid not in self._desired:
            log.info("removing containers of pod %s, which no longer exists", uid)
            self._worker(uid).update(None)

    def desired(self) -> dict[str, Message]:
        return dict(self._desired)

    def worker(self, uid: str) -> PodWorker | None:
        return self._workers.get(uid)

    def _worker(self, uid: str) -> PodWorker:
        worker = self._workers.get(uid)
        if worker is None:
            worker = PodWorker(self._ctx, uid, on_status=self._on_status, finalize=self._finalize)
            self._workers[uid] = worker
            worker.start(on_done=self._done)
        return worker

    def _done(self, uid: str) -> None:
        self._workers.pop(uid, None)
        if uid in self._desired and not self._stopping:    # wanted again while its worker was cleaning up: start over
            self._worker(uid).update(self._desired[uid])

    async def stop(self) -> None:
        self._stopping = True
        tasks = [w.task for w in self._workers.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
