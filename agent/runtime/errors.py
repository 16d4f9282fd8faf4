"""Runtime errors: what the kubelet sees instead of the Docker client's exceptions.

The kubelet never sees HTTP statuses; it reacts to these. Kept few on purpose:
"not there", "the image could not be had", and everything else.
"""
from collections.abc import Callable
from typing import TypeVar

from agent.runtime.dockerhttp import DockerError

T = TypeVar("T")


class RuntimeFailure(Exception):
    """The Docker Engine refused or failed a request."""


class NotFound(RuntimeFailure):
    """No such container, image, or exec instance."""


class ImagePullFailed(RuntimeFailure):
    """The image is not present and pulling it failed (reason ErrImagePull)."""


class ImageNeverPull(RuntimeFailure):
    """The image is not present and imagePullPolicy is Never (reason ErrImageNeverPull)."""


class EngineUnavailable(RuntimeFailure):
    """The daemon's socket did not answer."""


def translate(fn: Callable[..., T], *args, **kwargs) -> T:
    """Call `fn`, turning Docker's and transport exceptions into runtime errors."""
    try:
        return fn(*args, **kwargs)
    except Exception as e:
        raise runtime_error(e) from e


def runtime_error(e: Exception) -> Exception:
    """The runtime error for a Docker or transport exception; other exceptions unchanged.
    (dockerapi raises DockerUnreachable, a ConnectionError, for every way of getting no answer.)"""
    if isinstance(e, DockerError):
        return NotFound(e.message) if e.status == 404 else RuntimeFailure(e.message)
    if isinstance(e, (FileNotFoundError, ConnectionError)):
        return EngineUnavailable(str(e))
    return e
