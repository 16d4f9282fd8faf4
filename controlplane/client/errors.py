"""API errors as exceptions a caller can catch by meaning, not by gRPC code."""
import grpc


class ApiError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(ApiError):
    pass


class AlreadyExists(ApiError):
    pass


class Conflict(ApiError):
    """A stale resourceVersion, or a failed delete precondition."""


class Invalid(ApiError):
    """The request was refused; the message names the field and the reason."""


class Forbidden(ApiError):
    pass


class Unauthenticated(ApiError):
    pass


class Gone(ApiError):
    """The resourceVersion was compacted away: relist."""


class FailedPrecondition(ApiError):
    """E.g. binding a pod that is already bound."""


class TooManyRequests(ApiError):
    """Refused for now (HTTP 429): e.g. an eviction a PodDisruptionBudget does not allow yet."""


class Unavailable(ApiError):
    """The server could not be reached or did not answer in time: retry."""


_BY_CODE = {
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.ABORTED: Conflict,
    grpc.StatusCode.INVALID_ARGUMENT: Invalid,
    grpc.StatusCode.PERMISSION_DENIED: Forbidden,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.OUT_OF_RANGE: Gone,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.RESOURCE_EXHAUSTED: TooManyRequests,
    grpc.StatusCode.DEADLINE_EXCEEDED: Unavailable,
}


def from_rpc_error(e: grpc.aio.AioRpcError) -> ApiError:
    cls = _BY_CODE.get(e.code(), ApiError)
    return cls(e.code(), e.details() or e.code().name)
