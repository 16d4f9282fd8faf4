"""The probes' verdicts, per container, and who to tell when one flips."""
from collections.abc import Callable
from dataclasses import dataclass

LIVENESS, READINESS, STARTUP = "liveness", "readiness", "startup"


@dataclass(frozen=True)
class Key:
    pod_uid: str
    container: str
    kind: str


class Results:
    """Current verdicts keyed by (pod, container, probe kind), each for one container id."""

    def __init__(self, on_change: Callable[[str], None]) -> None:
        self._verdicts: dict[Key, tuple[str, bool]] = {}
        self._on_change = on_change

    def set(self, key: Key, container_id: str, success: bool) -> None:
        if self._verdicts.get(key) != (container_id, success):
            self._verdicts[key] = (container_id, success)
            self._on_change(key.pod_uid)

    def get(self, key: Key, container_id: str) -> bool | None:
        """The verdict for this container instance; None if there is none yet."""
        found = self._verdicts.get(key)
        return found[1] if found is not None and found[0] == container_id else None

    def forget(self, key: Key) -> None:
        self._verdicts.pop(key, None)
