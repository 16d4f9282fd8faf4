"""Validate objects before writing any of them, as the API server will.

`cox apply -f` of several documents must change nothing if any document is
bad. The API has no dry run, so the CLI asks the same validation code the
API server runs (controlplane.api.validation), on the object as the server
would see it: defaults filled in, and for a new object a stand-in uid (the
server gives every object one before validating it; a Job's generated
selector is made from it). The server still validates every write; this is
the check that lets a bad batch be refused before the first write.
"""
from google.protobuf.message import Message

from controlplane.api import defaults, validation
from controlplane.api.errors import FieldError, InvalidError

_STAND_IN_UID = "00000000-0000-4000-8000-000000000000"


def check(obj: Message, live: Message | None = None) -> Message:
    """`obj` as the server will validate it (a copy, defaults filled in); InvalidError if it would refuse it.

    `live` is the stored object `obj` replaces, or None for a create. The
    error lists every problem with its field path.
    """
    candidate = type(obj)()
    candidate.CopyFrom(obj)
    if live is None:
        candidate.metadata.uid = candidate.metadata.uid or _STAND_IN_UID
    defaults.apply_defaults(candidate)
    problems: list[FieldError] = (validation.validate_create(candidate) if live is None
                                  else validation.validate_update(candidate, live))
    if problems:
        raise InvalidError(obj.kind, obj.metadata.name, problems)
    return candidate
