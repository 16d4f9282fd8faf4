"""Ages read like kubectl's: two units while short, one once long."""
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from controlplane.cli.printing.age import human_duration, since

M, H, D = 60, 3600, 86400


@pytest.mark.parametrize("seconds, text", [
    (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (59, "59s"), (119, "119s"),
    (2 * M, "2m"), (3 * M + 20, "3m20s"), (9 * M + 59, "9m59s"), (10 * M + 30, "10m"),
    (179 * M, "179m"), (3 * H, "3h"), (5 * H + 10 * M, "5h10m"), (8 * H + 59 * M, "8h"),
    (47 * H, "47h"), (2 * D, "2d"), (2 * D + 3 * H, "2d3h"), (8 * D, "8d"), (729 * D, "729d"),
    (2 * 365 * D, "2y"), (3 * 365 * D + 20 * D, "3y20d"), (9 * 365 * D + 100 * D, "9y"),
])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_since_an_unset_timestamp_is_unknown():
    assert since(Timestamp(), now=1000) == "<unknown>"
    assert since(Timestamp(seconds=900), now=1000) == "100s"
