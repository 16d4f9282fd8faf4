"""Errors as Kubernetes Status objects with their HTTP codes: pure, no I/O.

The API server's errors are gRPC codes (apiserver/errors.py); here each gets
the HTTP code and reason Kubernetes gives it, so kubectl prints
`Error from server (NotFound): pods "x" not found` and, for an invalid
object, its field causes.
"""
import grpc

from controlplane.api.errors import FieldError
from controlplane.api.kinds import Kind

# gRPC code -> (HTTP code, Kubernetes StatusReason)
_BY_CODE = {
    grpc.StatusCode.NOT_FOUND: (404, "NotFound"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "AlreadyExists"),
    grpc.StatusCode.ABORTED: (409, "Conflict"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "Conflict"),
    grpc.StatusCode.INVALID_ARGUMENT: (400, "BadRequest"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "Forbidden"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "Unauthorized"),
    grpc.StatusCode.OUT_OF_RANGE: (410, "Expired"),
    grpc.StatusCode.UNAVAILABLE: (503, "ServiceUnavailable"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "TooManyRequests"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "Timeout"),
}
INTERNAL = (500, "InternalError")


def http_code(code: grpc.StatusCode) -> int:
    """The HTTP code Kubernetes answers for what our handlers answer with `code`."""
    return _BY_CODE.get(code, INTERNAL)[0]


def status(code: int, reason: str, message: str, *, kind: Kind | None = None, name: str = "",
           causes: list[FieldError] = (), cause_reason: str = "FieldValueInvalid") -> dict:
    """A failure Status; `kind`/`name` fill details as Kubernetes does."""
    out = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code}
    details = {}
    if name:
        details["name"] = name
    if kind is not None:
        # Kubernetes names the resource (pods) in most details, the kind (Pod) in an Invalid one.
        group, _, _ = kind.api_version.rpartition("/")
        details |= {"group": group} if group else {}
        details["kind"] = kind.name if reason == "Invalid" else kind.plural
    if causes:
        details["causes"] = [{"reason": cause_reason, "message": c.reason, "field": c.path}
                             for c in causes]
    if details:
        out["details"] = details
    return out


def from_api_error(code: grpc.StatusCode, message: str, *, causes: list[FieldError] = (),
                   kind: Kind | None = None, name: str = "") -> tuple[int, dict]:
    """(HTTP code, Status) for an API server error; an invalid object with causes is 422 Invalid."""
    http, reason = _BY_CODE.get(code, INTERNAL)
    if code == grpc.StatusCode.INVALID_ARGUMENT and causes:
        http, reason = 422, "Invalid"
    return http, status(http, reason, message, kind=kind, name=name, causes=causes)


def success(message: str = "") -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "message": message}
