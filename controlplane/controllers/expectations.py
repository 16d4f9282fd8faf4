"""Creations and deletions a controller asked for and has not yet seen in its informer.

Right after a ReplicaSet controller creates 10 pods its pod cache still
shows none of them; a sync in that window would count 0 pods and create 10
more. So before acting it records what it expects, the pod informer's
handlers check the expectations off as the pods appear (or disappear), and
the controller does not add or remove pods for that owner until all are seen,
or until they are so old that a watch event must have been lost.
"""
import dataclasses
import time
from typing import Hashable, Iterable

EXPIRY_SECONDS = 300.0


@dataclasses.dataclass
class _Pending:
    creations: int
    deletions: set[str]   # uids of pods we deleted and have not yet seen deleting
    since: float


class Expectations:
    def __init__(self, *, expiry_seconds: float = EXPIRY_SECONDS):
        self._pending: dict[Hashable, _Pending] = {}
        self._expiry = expiry_seconds

    def expect(self, owner: Hashable, *, creations: int = 0, deletions: Iterable[str] = ()) -> None:
        """Record what `owner` is about to create and delete (replacing any older record)."""
        self._pending[owner] = _Pending(creations, set(deletions), time.monotonic())

    def creation_observed(self, owner: Hashable) -> None:
        """A pod of `owner` appeared, or a creation we expected failed."""
        pending = self._pending.get(owner)
        if pending is not None:
            pending.creations -= 1

    def deletion_observed(self, owner: Hashable, uid: str) -> None:
        """A pod of `owner` is deleting or gone, or a deletion we expected failed."""
        pending = self._pending.get(owner)
        if pending is not None:
            pending.deletions.discard(uid)

    def satisfied(self, owner: Hashable) -> bool:
        """True when nothing is outstanding for `owner`, or the record has expired."""
        pending = self._pending.get(owner)
        if pending is None:
            return True
        if (pending.creations <= 0 and not pending.deletions) or \
                time.monotonic() - pending.since > self._expiry:
            del self._pending[owner]
            return True
        return False

    def forget(self, owner: Hashable) -> None:
        self._pending.pop(owner, None)
