"""Runtime errors: what the kubelet sees instead of docker-py's exceptions.

The kubelet never imports docker; it reacts to these. Kept few on purpose:
"not there", "the image could not be had", and everything else.
"""
from collections.abc import Callable
from typing import TypeVar

import docker.errors
import requests.exceptions

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
    """Call `fn`, turning docker-py and transport exceptions into runtime errors."""
    try:
        return fn(*args, **kwargs)
    except Exception as e:
        raise runtime_error(e) from e


def runtime_error(e: Exception) -> Exception:
    """The runtime error for a docker-py or transport exception; other exceptions unchanged."""
    if isinstance(e, docker.errors.NotFound):
        return NotFound(_explain(e))
    if isinstance(e, docker.errors.APIError):
        return RuntimeFailure(_explain(e))
    if isinstance(e, (requests.exceptions.ConnectionError, FileNotFoundError, ConnectionError)):
        return EngineUnavailable(str(e))
    return e


def _explain(e: docker.errors.APIError) -> str:
    return e.explanation if isinstance(e.explanation, str) and e.explanation else str(e)
