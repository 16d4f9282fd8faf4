"""API errors as gRPC status codes, worded as Kubernetes words them.

Kubernetes' HTTP codes map onto gRPC's: 404 NOT_FOUND, 409 AlreadyExists
ALREADY_EXISTS, 409 Conflict (stale resourceVersion) ABORTED, 422 Invalid
INVALID_ARGUMENT, 403 PERMISSION_DENIED, 401 UNAUTHENTICATED, 410 Gone (a
compacted resourceVersion) OUT_OF_RANGE, 429 TooManyRequests RESOURCE_EXHAUSTED.
"""
import grpc

from controlplane.api.kinds import Kind
from controlplane.store import UnavailableError


class ApiError(Exception):
    """`causes`: the field errors of an invalid object, for callers that report them one by one (REST)."""

    def __init__(self, code: grpc.StatusCode, message: str, *, causes=()):
        super().__init__(message)
        self.code = code
        self.message = message
        self.causes = list(causes)


def not_found(kind: Kind, name: str) -> ApiError:
    return ApiError(grpc.StatusCode.NOT_FOUND, f'{kind.plural} "{name}" not found')


def already_exists(kind: Kind, name: str) -> ApiError:
    return ApiError(grpc.StatusCode.ALREADY_EXISTS, f'{kind.plural} "{name}" already exists')


def conflict(kind: Kind, name: str, reason: str = "") -> ApiError:
    reason = reason or ("the object has been modified; please apply your changes "
                        "to the latest version and try again")
    return ApiError(grpc.StatusCode.ABORTED,
                    f'Operation cannot be fulfilled on {kind.plural} "{name}": {reason}')


def invalid(message: str, *, causes=()) -> ApiError:
    return ApiError(grpc.StatusCode.INVALID_ARGUMENT, message, causes=causes)


def forbidden(message: str) -> ApiError:
    return ApiError(grpc.StatusCode.PERMISSION_DENIED, message)


def gone(message: str) -> ApiError:
    return ApiError(grpc.StatusCode.OUT_OF_RANGE, message)


def failed_precondition(message: str) -> ApiError:
    return ApiError(grpc.StatusCode.FAILED_PRECONDITION, message)


def too_many_requests(message: str) -> ApiError:
    """Refused for now, try again later (HTTP 429): an eviction a disruption budget does not allow."""
    return ApiError(grpc.StatusCode.RESOURCE_EXHAUSTED, message)


def too_large_resource_version(requested: int, current: int) -> ApiError:
    """A watch from a revision the store has not reached (Kubernetes: 504 TooLargeResourceVersion).

    OUT_OF_RANGE, as for a compacted one: either way the client relists.
    """
    return ApiError(grpc.StatusCode.OUT_OF_RANGE,
                    f"Too large resource version: resourceVersion {requested} is beyond the current {current}")


def from_store(error: Exception) -> ApiError:
    """The store's failures (store/__init__.py) in words: an outage or a full disk is UNAVAILABLE."""
    if isinstance(error, UnavailableError):
        return ApiError(grpc.StatusCode.UNAVAILABLE, f"the store is unavailable: {error}")
    return ApiError(grpc.StatusCode.INTERNAL, f"the store failed: {error}")
