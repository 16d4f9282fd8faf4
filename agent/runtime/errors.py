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
    except docker.errors.NotFound as e:
        raise NotFound(_explain(e)) from e
    except docker.errors.APIError as e:
        raise RuntimeFailure(_explain(e)) from e
    except (requests.exceptions.ConnectionError, FileNotFoundError, ConnectionError) as e:
        raise EngineUnavailable(str(e)) from e


def _explain(e: docker.errors.APIError) -> str:
    return e.explanation if isinstance(e.explanation, str) and e.explanation else str(e)
