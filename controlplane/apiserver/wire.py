"""Build List and WatchEvent responses from already-serialized objects.

A protobuf message's wire form is its fields one after another, so a list of
objects is the items' bytes each behind a small header. The watch cache keeps
every object serialized once; assembling responses here means a List of 10,000
pods or an event sent to 100 watchers costs byte joins, not re-serialization.
Field numbers are those of the generated <Kind>List and <Kind>WatchEvent
messages (services.proto); tests check both against the real parser.
"""
from controlplane.api.kinds import Kind
from controlplane.api.v1 import meta_pb2

_LEN = 2  # wire type of length-delimited fields


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | _LEN) + _varint(len(data)) + data


def list_response(kind: Kind, items: list[bytes], *, resource_version: int,
                  continue_token: str = "", remaining: int | None = None) -> bytes:
    """<Kind>List{apiVersion=1, kind=2, metadata=3, items=4}."""
    meta = meta_pb2.ListMeta(resource_version=str(resource_version), continue_token=continue_token)
    if remaining is not None:
        meta.remaining_item_count = remaining
    head = (_field(1, kind.api_version.encode()) + _field(2, f"{kind.name}List".encode())
            + _field(3, meta.SerializeToString()))
    return head + b"".join(_field(4, item) for item in items)


def watch_event(event_type: str, obj: bytes) -> bytes:
    """<Kind>WatchEvent{type=1, object=2}."""
    return _field(1, event_type.encode()) + _field(2, obj)
