"""The proxier: keeps the kernel's table equal to the latest proxy state.

Level-triggered and coalescing: `update()` only records the newest desired
state and wakes the loop, so a burst of Service and Endpoints events becomes
one transaction. Each sync is a diff against the state last applied; the
first sync, the one after a failure, and one every `full_sync_period` replace
the whole table instead, which repairs anything that drifted. The kernel work
and conntrack run in a worker thread so the event loop keeps serving informers.

A caller that knows which Service ports an update may have changed says so
(`changed=`), and the diff compares only those: at 10,000 Services the scan
of every entry costs more than applying a one-endpoint change.

Each successful sync is noted in `programmed` (programmed.py): which pods became
ready backends of which Service ports, and when the kernel had them.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Iterable

from agent.proxy.applier import Transactions
from agent.proxy.changes import changed_names, diff_transaction, stale_udp_flows
from agent.proxy.conntrack import ConntrackCleaner
from agent.proxy.model import ProxyState, ServicePortName
from agent.proxy.programmed import ProgrammedRecord
from agent.proxy.render import full_transaction
from controlplane.metrics import proxy as metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncResult:
    full: bool
    commands: int
    seconds: float


class Proxier:
    def __init__(self, *, table: str, applier: Transactions, conntrack: ConntrackCleaner | None = None,
                 full_sync_period: float = 3600.0, retry_delay: float = 1.0,
                 programmed: ProgrammedRecord | None = None):
        """programmed: where successful syncs are noted (a new record if None)."""
        self.table = table
        self._applier = applier
        self._conntrack = conntrack
        self._full_sync_period = full_sync_period
        self._retry_delay = retry_delay
        self._desired = ProxyState()
        self._touched: set[ServicePortName] | None = None  # since the last sync; None: unknown
        self._lock = threading.Lock()  # update() runs in the event loop, sync() in a worker thread
        self._applied: ProxyState | None = None  # None: the kernel's table is not known to match anything
        self._next_full = 0.0
        self._wake = asyncio.Event()
        self.programmed = programmed if programmed is not None else ProgrammedRecord()

    def update(self, state: ProxyState, *, changed: Iterable[ServicePortName] | None = None) -> None:
        """Make `state` the desired one. changed: the Service ports whose info or endpoints may
        differ from the previous update's state; None: any may."""
        with self._lock:
            self._desired = state
            if changed is None or self._touched is None:
                self._touched = None
            else:
                self._touched.update(changed)
        self._wake.set()

    def sync(self) -> SyncResult:
        """Bring the table to the desired state now (blocking: the kernel work runs in this thread)."""
        with self._lock:
            desired, touched = self._desired, self._touched
            self._touched = set()
        applied = self._applied
        started = time.perf_counter()
        full = applied is None or time.monotonic() >= self._next_full
        changed = [] if applied is None else changed_names(applied, desired, touched)
        if full:
            self._applied = None
            commands = full_transaction(self.table, desired)
            self._next_full = time.monotonic() + self._full_sync_period
        else:
            commands = diff_transaction(self.table, applied, desired, changed)
        try:
            self._applier.apply(commands)
        except Exception:  # the kernel's table is now unknown: the next sync rebuilds it whole
            self._applied = None
            raise
        self._applied = desired
        self.programmed.note(desired, changed=None if applied is None else changed, at=time.time())
        if self._conntrack is not None and applied is not None:
            stale = stale_udp_flows(applied, desired, changed)
            if stale:
                self._conntrack.forget(stale)
        return SyncResult(full=full, commands=len(commands), seconds=time.perf_counter() - started)

    async def run(self) -> None:
        """Sync whenever the state changes, a full resync is due, or a failed sync is retried."""
        while True:
            timeout = max(0.0, self._next_full - time.monotonic())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            try:
                result = await asyncio.to_thread(self.sync)
                metrics.synced(full=result.full, commands=result.commands, seconds=result.seconds)
                log.debug("proxy %s: %s sync, %d commands, %.3fs", self.table,
                          "full" if result.full else "partial", result.commands, result.seconds)
            except Exception:  # nft refused or is missing; sync() made the retry a full one
                log.exception("proxy %s: sync failed; full resync in %.1fs", self.table, self._retry_delay)
                await asyncio.sleep(self._retry_delay)
                self._wake.set()
