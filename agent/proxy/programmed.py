"""When this node's proxy first programmed each pod as a ready backend of each Service port.

`cox trace pod/NAME` shows, per node, the moment the kernel had the pod's
rules (the API server asks every agent: NodeAgent/ProxyProgrammed). The
proxier notes each successful transaction here with the wall-clock time it
completed; only the Service ports that transaction changed are compared (the
list the proxier computed for its diff anyway), so a sync costs a look at
those ports' endpoints and nothing more. A sync that starts from an unknown
table (the first, or one after a failure) compares every port.

Bounded: a (pod, Service port) pair that stops being a ready backend is kept
`retention` seconds more (a trace of a pod just deleted still shows its
rules), then forgotten; past `limit` pairs the oldest are dropped first, those
already gone before the rest. Times are this agent process's: a pod already
programmed when the agent started reads as programmed at its first sync.
"""
from __future__ import annotations

import threading
from typing import Iterable, NamedTuple

from agent.proxy.model import ProxyState, ServicePortName

DEFAULT_RETENTION = 600.0   # seconds a pair is kept after it stopped being a ready backend
DEFAULT_LIMIT = 50_000      # pairs: 10,000 Services x 3 endpoints fit, plus churn


class Programmed(NamedTuple):
    service: ServicePortName
    at: float               # seconds since the epoch: the transaction that programmed it completed
    number: int             # the Service port's number now; 0: the Service is gone


def _ready_uids(state: ProxyState, name: ServicePortName) -> set[str]:
    if name not in state.services:   # endpoints of no Service port program nothing
        return set()
    return {ep.uid for ep in state.endpoints.get(name, ()) if ep.ready and ep.uid}


class ProgrammedRecord:
    """Thread-safe: the proxier notes from its worker thread, the agent's server reads from the event loop."""

    def __init__(self, *, retention: float = DEFAULT_RETENTION, limit: int = DEFAULT_LIMIT):
        self._retention = retention
        self._limit = limit
        self._last = ProxyState()
        self._at: dict[tuple[str, ServicePortName], float] = {}     # (uid, port) -> programmed; oldest first
        self._gone: dict[tuple[str, ServicePortName], float] = {}   # (uid, port) -> stopped being one; oldest first
        self._lock = threading.Lock()

    def note(self, state: ProxyState, *, changed: Iterable[ServicePortName] | None, at: float) -> None:
        """`state` is now in the kernel, since `at`. changed: the Service ports that may differ from the
        state noted last; None: any may (every port is compared)."""
        last, self._last = self._last, state
        names = (last.services.keys() | state.services.keys()) if changed is None else changed
        with self._lock:
            for name in names:
                before, after = _ready_uids(last, name), _ready_uids(state, name)
                for uid in after - before:
                    self._gone.pop((uid, name), None)
                    self._at.setdefault((uid, name), at)
                for uid in before - after:
                    if (uid, name) in self._at:
                        self._gone[(uid, name)] = at
            self._forget(at)

    def _forget(self, now: float) -> None:
        while self._gone:
            key, gone = next(iter(self._gone.items()))
            if now - gone < self._retention and len(self._at) <= self._limit:
                break
            del self._gone[key]
            del self._at[key]
        while len(self._at) > self._limit:
            del self._at[next(iter(self._at))]

    def times(self, uids: Iterable[str]) -> dict[str, list[Programmed]]:
        """Each uid's programmed Service ports, in the order they were programmed ([]: none yet)."""
        wanted = set(uids)
        found: dict[str, list[Programmed]] = {uid: [] for uid in wanted}
        services = self._last.services
        with self._lock:
            for (uid, name), at in self._at.items():
                if uid in wanted:
                    info = services.get(name)
                    found[uid].append(Programmed(name, at, info.port if info is not None else 0))
        return found

    def __len__(self) -> int:
        return len(self._at)
