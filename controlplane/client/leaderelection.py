"""Leader election through a Lease, so that one of several replicas acts at a time.

    elector = LeaderElector(client, name="cox-controller-manager", identity="host-1234")
    await elector.run(lead)   # lead() runs while we hold the lease; cancelled if we lose it

The Lease (kube-system/<name>) says who holds it and when they last renewed.
A candidate takes it when it is free, or when its holder has not renewed it
for leaseDurationSeconds as measured by the candidate's own clock from when
it *saw* the last renewal (so clocks need not agree). Every write is
conditional on the Lease's resourceVersion, so two candidates never both
win. The holder renews every retry period; if it cannot renew within the
renew deadline it stops leading at once (before anyone else may take
over), and campaigns again. On a clean stop it releases the Lease so a
successor need not wait out the duration.
"""
import asyncio
import contextlib
import logging
import math
import time
from typing import Awaitable, Callable

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from controlplane.api.kinds import KINDS
from controlplane.client import errors
from controlplane.client.client import Client

log = logging.getLogger(__name__)


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


class LeaderElector:
    def __init__(self, client: Client, *, name: str, identity: str, namespace: str = "kube-system",
                 lease_duration: float = 15.0, renew_deadline: float = 10.0, retry_period: float = 2.0):
        if not retry_period < renew_deadline < lease_duration:
            raise ValueError("need retry_period < renew_deadline < lease_duration")
        self._leases = client.resource("Lease")
        self.name, self.namespace, self.identity = name, namespace, identity
        self.lease_duration, self.renew_deadline, self.retry_period = lease_duration, renew_deadline, retry_period
        self._observed: tuple[str, float] | None = None  # (lease resourceVersion, when we saw it)
        self.is_leader = False

    async def run(self, lead: Callable[[], Awaitable[None]]) -> None:
        """Campaign and lead, again and again, until cancelled (then release the lease)."""
        try:
            while True:
                await self._acquire()
                log.info("%s: became leader of %s/%s", self.identity, self.namespace, self.name)
                self.is_leader = True
                leading = asyncio.create_task(lead(), name=f"leading-{self.name}")
                renewing = asyncio.create_task(self._keep_renewing(), name=f"renew-{self.name}")
                try:
                    done, _ = await asyncio.wait({leading, renewing}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    self.is_leader = False
                    for task in (leading, renewing):
                        task.cancel()
                    await asyncio.gather(leading, renewing, return_exceptions=True)
                if leading in done and leading.exception() is not None:
                    raise leading.exception()
                if leading in done:
                    return  # lead() finished on its own: nothing more to lead
                log.warning("%s: lost the lease %s/%s", self.identity, self.namespace, self.name)
        finally:
            self.is_leader = False
            with contextlib.suppress(Exception):
                await asyncio.shield(self._release())

    async def _acquire(self) -> None:
        while not await self._try_acquire_or_renew():
            await asyncio.sleep(self.retry_period)

    async def _keep_renewing(self) -> None:
        """Return when the lease could not be renewed within the renew deadline."""
        while True:
            await asyncio.sleep(self.retry_period)
            deadline = time.monotonic() + self.renew_deadline
            while True:
                try:
                    renewed = await asyncio.wait_for(self._try_acquire_or_renew(),
                                                     max(deadline - time.monotonic(), 0.01))
                except (asyncio.TimeoutError, errors.ApiError) as e:
                    log.debug("renewing %s: %s", self.name, e)
                    renewed = False
                if renewed:
                    break
                if time.monotonic() >= deadline:
                    return
                await asyncio.sleep(min(self.retry_period, max(deadline - time.monotonic(), 0)))

    async def _try_acquire_or_renew(self) -> bool:
        now = _now()
        try:
            lease = await self._leases.get(self.name, namespace=self.namespace)
        except errors.NotFound:
            lease = KINDS["Lease"].new(metadata={"name": self.name, "namespace": self.namespace})
            self._fill(lease, now, new_holder=True)
            try:
                created = await self._leases.create(lease)
            except (errors.AlreadyExists, errors.Conflict):
                return False
            self._observe(created)
            return True
        except errors.ApiError as e:
            log.debug("reading lease %s: %s", self.name, e)
            return False
        holder = lease.spec.holder_identity
        if holder and holder != self.identity and not self._expired(lease):
            return False
        self._fill(lease, now, new_holder=holder != self.identity)
        try:
            updated = await self._leases.update(lease)
        except (errors.Conflict, errors.NotFound):
            return False
        self._observe(updated)
        return True

    def _expired(self, lease: Message) -> bool:
        rv = lease.metadata.resource_version
        if self._observed is None or self._observed[0] != rv:
            self._observed = (rv, time.monotonic())  # a renewal we had not seen: the clock restarts
            return False
        duration = lease.spec.lease_duration_seconds or self.lease_duration
        return time.monotonic() - self._observed[1] > duration

    def _observe(self, lease: Message) -> None:
        self._observed = (lease.metadata.resource_version, time.monotonic())

    def _fill(self, lease: Message, now: Timestamp, *, new_holder: bool) -> None:
        spec = lease.spec
        if new_holder:
            spec.holder_identity = self.identity
            spec.acquire_time.CopyFrom(now)
            spec.lease_transitions = (spec.lease_transitions if spec.HasField("lease_transitions") else -1) + 1
        spec.lease_duration_seconds = math.ceil(self.lease_duration)
        spec.renew_time.CopyFrom(now)

    async def _release(self) -> None:
        lease = await self._leases.get(self.name, namespace=self.namespace)
        if lease.spec.holder_identity != self.identity:
            return
        lease.spec.holder_identity = ""
        lease.spec.lease_duration_seconds = 1
        await self._leases.update(lease)
