"""Crash-loop back-off: how long to wait before starting a container again.

Kubernetes' numbers and shape: the first failure is retried at once, the
next after 10 s, then 20 s, 40 s ... up to 5 min; a container that ran for
10 min starts over. The same schedule spaces image pull retries
(ImagePullBackOff). Kept in memory per (pod uid, what); a restarted kubelet
starts over, as Kubernetes' does.

`step` is idempotent per failure: the pod worker may look at the same exited
container on every sync and gets the same answer until a new failure comes.
"""
from dataclasses import dataclass

INITIAL = 10.0
MAXIMUM = 300.0
RESET_AFTER = 600.0


@dataclass
class _Entry:
    failure: str     # the failure this entry decided about (a container id, a pull attempt)
    wait: float      # seconds to wait after that failure
    next: float      # seconds to wait after the one after it


class BackOff:
    def __init__(self, *, initial: float = INITIAL, maximum: float = MAXIMUM,
                 reset_after: float = RESET_AFTER) -> None:
        self.initial, self.maximum, self.reset_after = initial, maximum, reset_after
        self._entries: dict[tuple[str, str], _Entry] = {}

    def step(self, key: tuple[str, str], failure: str, *, ran_for: float = 0.0) -> float:
        """Seconds to wait after `failure` (counted from when it happened) before trying again."""
        entry = self._entries.get(key)
        if entry is not None and entry.failure == failure:
            return entry.wait
        if entry is None or ran_for >= self.reset_after:
            wait, following = 0.0, self.initial
        else:
            wait, following = entry.next, min(entry.next * 2, self.maximum)
        self._entries[key] = _Entry(failure=failure, wait=wait, next=following)
        return wait

    def forget(self, key: tuple[str, str]) -> None:
        self._entries.pop(key, None)

    def forget_pod(self, uid: str) -> None:
        for key in [k for k in self._entries if k[0] == uid]:
            del self._entries[key]
