"""Leader election through a Lease (coordination.k8s.io), as client-go's leaderelection.

    elector = LeaderElector(client, name="cox-scheduler", identity=f"{host}_{uuid}")
    await elector.run(lead, stop=stop)     # lead(): the leader's work, cancelled on losing the lease

Several processes run the same component; the one holding the Lease
kube-system/<name> works, the others wait. The holder renews every
`retry_period`; if it cannot renew for `renew_deadline` it stops its work
(cancels `lead`) before its lease can run out (`lease_duration`), so two
leaders never overlap as long as clocks run at the same rate. Candidates
judge expiry by their own clock, from when they last saw the lease change,
never by comparing timestamps written by another machine. Every write is
conditional on the resourceVersion read, so two candidates cannot both win.
On stop the holder releases the lease (empty holder) so a successor need not
wait for it to expire.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from controlplane.api.kinds import KINDS
from controlplane.client import errors
from controlplane.client.client import Client

log = logging.getLogger(__name__)


class LeaderElector:
    def __init__(self, client: Client, *, name: str, identity: str, namespace: str = "kube-system",
                 lease_duration: float = 15.0, renew_deadline: float = 10.0, retry_period: float = 2.0,
                 clock: Callable[[], float] = time.monotonic):
        if not lease_duration > renew_deadline > retry_period > 0:
            raise ValueError("leader election needs lease_duration > renew_deadline > retry_period > 0")
        self._leases = client.resource("Lease")
        self.name, self.namespace, self.identity = name, namespace, identity
        self._duration, self._deadline, self._retry = lease_duration, renew_deadline, retry_period
        self._clock = clock
        self._observed: tuple | None = None     # (holder, renew time, resourceVersion) last seen
        self._observed_at = 0.0
        self.is_leader = False

    async def run(self, lead: Callable[[], Awaitable[None]], *, stop: asyncio.Event) -> None:
        """Until `stop`: acquire the lease, run lead() while holding it, cancel it if the lease is lost."""
        while not stop.is_set():
            if not await self._acquire(stop):
                return
            log.info("%s: %s became leader", self.name, self.identity)
            self.is_leader = True
            work = asyncio.create_task(lead(), name=f"leader-{self.name}")
            try:
                await self._renew(stop, work)
            finally:
                self.is_leader = False
                work.cancel()
                results = await asyncio.gather(work, return_exceptions=True)
                if stop.is_set():
                    await self._release()
            if isinstance(results[0], Exception) and not isinstance(results[0], asyncio.CancelledError):
                await self._release()
                raise results[0]
            if not stop.is_set():
                log.warning("%s: %s lost the lease; standing for election again", self.name, self.identity)

    async def _acquire(self, stop: asyncio.Event) -> bool:
        while not stop.is_set():
            if await self._try_acquire_or_renew():
                return True
            await _sleep_or_stop(self._retry, stop)
        return False

    async def _renew(self, stop: asyncio.Event, work: asyncio.Task) -> None:
        """Renew every retry period; return on stop, when the work ends, or when renewal fails for too long."""
        renewed = self._clock()
        while not stop.is_set() and not work.done():
            await _sleep_or_stop(self._retry, stop, work)
            if stop.is_set() or work.done():
                return
            if await self._try_acquire_or_renew():
                renewed = self._clock()
            elif self._clock() - renewed >= self._deadline or self._observed and self._observed[0] != self.identity:
                return

    async def _try_acquire_or_renew(self) -> bool:
        try:
            return await asyncio.wait_for(self._attempt(), self._deadline / 2)
        except (errors.ApiError, asyncio.TimeoutError) as e:
            log.debug("%s: lease attempt failed: %s", self.name, e)
            return False

    async def _attempt(self) -> bool:
        now = _now()
        try:
            lease = await self._leases.get(self.name, namespace=self.namespace)
        except errors.NotFound:
            lease = KINDS["Lease"].new(
                metadata={"name": self.name, "namespace": self.namespace},
                spec={"holder_identity": self.identity, "lease_duration_seconds": round(self._duration),
                      "acquire_time": now, "renew_time": now, "lease_transitions": 0})
            try:
                created = await self._leases.create(lease)
            except errors.AlreadyExists:
                return False
            self._observe(created)
            return True
        self._observe(lease)
        spec = lease.spec
        held_by_other = spec.holder_identity not in ("", self.identity)
        if held_by_other and self._clock() < self._observed_at + (spec.lease_duration_seconds or self._duration):
            return False
        if spec.holder_identity != self.identity:
            spec.acquire_time.CopyFrom(now)
            spec.lease_transitions = spec.lease_transitions + 1
            spec.holder_identity = self.identity
        spec.lease_duration_seconds = round(self._duration)
        spec.renew_time.CopyFrom(now)
        try:
            self._observe(await self._leases.update(lease))   # conditional on the resourceVersion read
        except errors.Conflict:
            return False
        return True

    def _observe(self, lease: Message) -> None:
        seen = (lease.spec.holder_identity, lease.spec.renew_time.SerializeToString(),
                lease.metadata.resource_version)
        if seen != self._observed:
            self._observed, self._observed_at = seen, self._clock()

    async def _release(self) -> None:
        try:
            lease = await asyncio.wait_for(self._leases.get(self.name, namespace=self.namespace), self._retry)
            if lease.spec.holder_identity != self.identity:
                return
            lease.spec.holder_identity = ""
            lease.spec.lease_duration_seconds = 1
            lease.spec.renew_time.CopyFrom(_now())
            await asyncio.wait_for(self._leases.update(lease), self._retry)
        except (errors.ApiError, asyncio.TimeoutError) as e:
            log.info("%s: could not release the lease (it will expire): %s", self.name, e)


async def _sleep_or_stop(seconds: float, stop: asyncio.Event, work: asyncio.Task | None = None) -> None:
    waiters = [asyncio.ensure_future(stop.wait())]
    if work is not None:
        waiters.append(work)
    done, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    waiters[0].cancel()


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp
