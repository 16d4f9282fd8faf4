"""Durations as kubectl reads them: `60s`, `1m30s`, `2h`, `500ms`; a bare number is seconds.

kubectl takes Go durations for --timeout, --since and --request-timeout; cox
takes the same, and keeps taking a plain number of seconds, as it always did.
"""
import argparse
import re

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def seconds(text: str) -> float:
    """The duration in seconds; argparse.ArgumentTypeError (argparse names the option) if unreadable."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    at, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != at:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        at = match.end()
    if not text or at != len(text):
        raise argparse.ArgumentTypeError(f'invalid duration "{text}": use a number with a unit, such as 30s, 5m or 1h')
    return total


def whole_seconds(text: str) -> int:
    """A duration rounded up to whole seconds (for the API's sinceSeconds and the like)."""
    value = seconds(text)
    return int(value) + (value > int(value))
