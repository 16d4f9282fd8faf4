"""The hand-assembled List and WatchEvent bytes parse as the generated messages."""
from controlplane.api.kinds import KINDS
from controlplane.apiserver import wire
from tests.support.objects import pod


def test_list_response_parses():
    kind = KINDS["Pod"]
    items = [pod(f"p{i}") for i in range(3)]
    data = wire.list_response(kind, [p.SerializeToString() for p in items], resource_version=42,
                              continue_token="abc", remaining=7)
    parsed = kind.list_message.FromString(data)
    assert parsed.kind == "PodList" and parsed.api_version == "v1"
    assert parsed.metadata.resource_version == "42" and parsed.metadata.continue_token == "abc"
    assert parsed.metadata.remaining_item_count == 7
    assert list(parsed.items) == items


def test_watch_event_parses_with_large_objects():
    kind = KINDS["ConfigMap"]
    big = kind.new(metadata={"name": "big"}, data={"k": "x" * 300_000})  # multi-byte length varint
    parsed = kind.watch_event.FromString(wire.watch_event("MODIFIED", big.SerializeToString()))
    assert parsed.type == "MODIFIED" and parsed.object == big
