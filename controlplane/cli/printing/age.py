"""Durations the way kubectl shows them: precise while short, coarse once long.

"45s", "3m20s", "15m", "5h10m", "2d3h", "400d", "3y20d": two units while the
smaller one still means something, one after. Ages are measured from API
timestamps (whole seconds), so a clock a second ahead of the server's still
reads "0s", and anything further in the future is "<invalid>".
"""
import time

from google.protobuf.timestamp_pb2 import Timestamp

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR


def human_duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 2 * _MINUTE:
        return f"{seconds}s"
    minutes, hours, days = seconds // _MINUTE, seconds // _HOUR, seconds // _DAY
    if minutes < 10:
        return _two(minutes, "m", seconds % _MINUTE, "s")
    if minutes < 3 * 60:
        return f"{minutes}m"
    if hours < 8:
        return _two(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return _two(days, "d", hours % 24, "h")
    if days < 2 * 365:
        return f"{days}d"
    if days < 8 * 365:
        return _two(days // 365, "y", days % 365, "d")
    return f"{days // 365}y"


def _two(big: int, big_unit: str, small: int, small_unit: str) -> str:
    return f"{big}{big_unit}{small}{small_unit}" if small else f"{big}{big_unit}"


def is_set(stamp: Timestamp) -> bool:
    return bool(stamp.seconds or stamp.nanos)


def since(stamp: Timestamp, now: float | None = None) -> str:
    """Age of an API timestamp; "<unknown>" when it is not set."""
    if not is_set(stamp):
        return "<unknown>"
    return human_duration((time.time() if now is None else now) - stamp.seconds)
