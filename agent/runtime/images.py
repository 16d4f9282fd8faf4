"""Making sure a container's image is present, following imagePullPolicy.

Always pulls; IfNotPresent pulls only when the image is missing; Never
fails when it is missing. (A pull's failure can come after Docker's 200, in
its progress stream: the client reads that to its end and raises it.)

A pull may carry registry credentials (Docker's auth_config, from the pod's
imagePullSecrets: agent/kubelet/pullsecrets.py): each is tried in turn until
one pull works, as the kubelet does; with none the pull is anonymous.
"""
from agent.runtime.engine import Engine
from agent.runtime.errors import ImageNeverPull, ImagePullFailed, NotFound, RuntimeFailure

ALWAYS, IF_NOT_PRESENT, NEVER = "Always", "IfNotPresent", "Never"


def default_policy(image: str) -> str:
    """Kubernetes' default: Always for :latest or an untagged image, else IfNotPresent."""
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return IF_NOT_PRESENT
    tag = name.partition(":")[2]
    return ALWAYS if tag in ("", "latest") else IF_NOT_PRESENT


def split_reference(image: str) -> tuple[str, str]:
    """repository and tag (or digest) of an image reference; tag "latest" when absent."""
    if "@" in image:
        repository, _, digest = image.partition("@")
        return repository, digest
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1:]
    return image, "latest"


class Images:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def image_id(self, image: str) -> str | None:
        """The local image's id, or None if this daemon does not have it."""
        try:
            return (await self._engine.call(self._engine.api.inspect_image, image))["Id"]
        except NotFound:
            return None

    async def image_user(self, image: str) -> str:
        """The image's USER ("" when it names none: it runs as root)."""
        inspected = await self._engine.call(self._engine.api.inspect_image, image)
        return (inspected.get("Config") or {}).get("User") or ""

    async def ensure(self, image: str, *, policy: str = "", auths: tuple[dict, ...] = ()) -> tuple[str, bool]:
        """(image id, whether it was pulled now); ImagePullFailed / ImageNeverPull otherwise."""
        policy = policy or default_policy(image)
        if policy != ALWAYS:
            present = await self.image_id(image)
            if present:
                return present, False
            if policy == NEVER:
                raise ImageNeverPull(f'image "{image}" is not present with pull policy of Never')
        await self.pull(image, auths=auths)
        pulled = await self.image_id(image)
        if not pulled:
            raise ImagePullFailed(f'pulled "{image}" but the daemon does not list it')
        return pulled, True

    async def pull(self, image: str, *, auths: tuple[dict, ...] = ()) -> None:
        """Pull with each of `auths` in turn until one works (anonymously without any)."""
        repository, tag = split_reference(image)
        failure: RuntimeFailure | None = None
        for auth in auths or (None,):
            try:
                await self._engine.call(self._engine.api.pull, repository, tag=tag, auth_config=auth)
                return
            except RuntimeFailure as e:
                failure = e
        raise ImagePullFailed(f'failed to pull image "{image}": {failure}') from failure
