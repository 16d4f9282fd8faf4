"""Kubernetes resource quantities: "500m", "2", "1.5", "128Mi", "1G", "1e3".

Requests, limits, capacity and emptyDir sizes are stored as the strings users
wrote, as Kubernetes stores them; whoever needs a number (validation, the
scheduler's fit check, the kubelet's cgroup limits) converts here, exactly
(fractions, no floats), rounding up like Kubernetes' Value and MilliValue.
"""
import math
import re
from fractions import Fraction

_FORM = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+))([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
# Far beyond any real resource; keeps "1e999999999" and a page of digits from costing anything.
_MAX_EXPONENT = 30
_MAX_LENGTH = 64


class QuantityError(ValueError):
    """A string that is not a quantity; the message quotes it."""


def parse(text: str) -> Fraction:
    """The exact value of a quantity string."""
    match = _FORM.fullmatch(text) if isinstance(text, str) and len(text) <= _MAX_LENGTH else None
    if not match:
        raise QuantityError(f'quantity "{text}" is not valid: a number with an optional suffix '
                            "(m, k, M, G, Ki, Mi, Gi, e3, ...) was expected, e.g. 500m, 2, 128Mi")
    number, suffix = match.groups()
    if suffix in _BINARY:
        return Fraction(number) * 1024 ** _BINARY[suffix]
    exponent = _DECIMAL[suffix] if suffix in _DECIMAL else int(suffix[1:]) if suffix else 0
    if abs(exponent) > _MAX_EXPONENT:
        raise QuantityError(f'quantity "{text}" is out of range')
    return Fraction(number) * Fraction(10) ** exponent


def millicores(text: str) -> int:
    """CPU in thousandths of a core, rounded up: "500m" -> 500, "1.5" -> 1500, "0.1m" -> 1."""
    return math.ceil(parse(text) * 1000)


def to_int(text: str) -> int:
    """A whole number, rounded up: bytes for memory and storage ("128Mi" -> 134217728), pod counts."""
    return math.ceil(parse(text))


def format_millicores(millis: int) -> str:
    """As kubectl shows CPU: whole cores plainly ("2"), otherwise in millicores ("1500m")."""
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def format_bytes(count: int) -> str:
    """As kubectl shows memory: the largest binary suffix that divides evenly ("128Mi"), else bytes."""
    for suffix, power in reversed(_BINARY.items()):
        unit = 1024 ** power
        if count and count % unit == 0:
            return f"{count // unit}{suffix}"
    return str(count)
