"""Image pulls for containers: the pull policy, and the back-off between failed pulls.

images.py knows how to pull; this module knows when. IfNotPresent uses a
present image, Never refuses a missing one, Always pulls. After a failed
pull the same key (the kubelet uses pod uid and container name) waits
before pulling again: 10 s, doubling to 5 min, as Kubernetes'
ImagePullBackOff. `wait_left` is what the pod plan reads
(Facts.pull_waits), so the worker looks again exactly when a retry is due.
"""
import time
from dataclasses import dataclass

from agent.runtime.errors import ImageNeverPull, ImagePullFailed
from agent.runtime.images import ALWAYS, NEVER, Images

INITIAL = 10.0
MAXIMUM = 300.0

Key = tuple[str, str]


def pull_back_off(failures: int) -> float:
    """Seconds before pulling again after `failures` failed pulls in a row: 10 s doubling to 5 min."""
    return min(INITIAL * 2 ** (failures - 1), MAXIMUM)


@dataclass(frozen=True)
class Outcome:
    """How making an image present went: ready, and the event to report (reason, message)."""
    ready: bool
    reason: str        # Pulled, ErrImageNeverPull, ErrImagePull
    message: str
    pulling: bool = False   # a pull was tried (its "Pulling" event comes first)


class Puller:
    def __init__(self, images: Images, *, clock=time.time) -> None:
        self._images = images
        self._clock = clock
        self._failures: dict[Key, tuple[float, int]] = {}   # key → (when, how many in a row)

    def wait_left(self, key: Key) -> float:
        """Seconds of pull back-off left for that key (0: a pull may be tried)."""
        failed = self._failures.get(key)
        if failed is None:
            return 0.0
        return max(0.0, failed[0] + pull_back_off(failed[1]) - self._clock())

    async def ensure(self, key: Key, image: str, *, policy: str, auths: tuple[dict, ...] = ()) -> Outcome:
        """The image present, pulled now if the policy says so (with `auths`, the registry credentials
        to try); failures start or extend the back-off."""
        if policy != ALWAYS and await self._images.image_id(image):
            return Outcome(True, "Pulled", f'Container image "{image}" already present on machine')
        if policy == NEVER:
            return Outcome(False, "ErrImageNeverPull",
                           f'Container image "{image}" is not present with pull policy of Never')
        began = time.monotonic()
        try:
            await self._images.ensure(image, policy=ALWAYS, auths=auths)
        except (ImagePullFailed, ImageNeverPull) as e:
            failed = self._failures.get(key)
            self._failures[key] = (self._clock(), (failed[1] if failed else 0) + 1)
            return Outcome(False, "ErrImagePull", str(e), pulling=True)
        self._failures.pop(key, None)
        return Outcome(True, "Pulled", f'Successfully pulled image "{image}" in {time.monotonic() - began:.3f}s',
                       pulling=True)

    def forget(self, uid: str) -> None:
        for key in [k for k in self._failures if k[0] == uid]:
            del self._failures[key]
