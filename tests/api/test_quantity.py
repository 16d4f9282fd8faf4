"""Quantities parse exactly and round up like Kubernetes; bad strings are quoted in the error."""
from fractions import Fraction

import pytest

from controlplane.api import quantity


@pytest.mark.parametrize("text, exact, millicores, whole", [
    ("500m", Fraction(1, 2), 500, 1),
    ("2", 2, 2000, 2),
    ("1.5", Fraction(3, 2), 1500, 2),
    ("0.1", Fraction(1, 10), 100, 1),
    (".5", Fraction(1, 2), 500, 1),
    ("0.1m", Fraction(1, 10000), 1, 1),
    ("1e3", 1000, 1_000_000, 1000),
    ("1E-3", Fraction(1, 1000), 1, 1),
    ("128Mi", 128 * 2**20, 128 * 2**20 * 1000, 128 * 2**20),
    ("1.5Gi", 3 * 2**29, 3 * 2**29 * 1000, 3 * 2**29),
    ("1G", 10**9, 10**12, 10**9),
    ("1k", 1000, 1_000_000, 1000),
    ("1E", 10**18, 10**21, 10**18),
    ("100n", Fraction(1, 10**7), 1, 1),
    ("+3", 3, 3000, 3),
])
def test_parse(text, exact, millicores, whole):
    assert quantity.parse(text) == exact
    assert quantity.millicores(text) == millicores
    assert quantity.to_int(text) == whole


@pytest.mark.parametrize("text", ["", "abc", "1K", "1 Gi", "Mi", "1Mb", "1.2.3", "1e", "--1", "1e99"])
def test_bad_quantities_are_quoted(text):
    with pytest.raises(quantity.QuantityError, match=f'quantity "{text}"'):
        quantity.parse(text)


def test_absurd_input_is_rejected_cheaply():
    with pytest.raises(quantity.QuantityError):
        quantity.parse("9" * 5000)
    with pytest.raises(quantity.QuantityError):
        quantity.parse("1e" + "9" * 50)


@pytest.mark.parametrize("millis, text", [(500, "500m"), (1000, "1"), (2500, "2500m"), (0, "0")])
def test_format_millicores(millis, text):
    assert quantity.format_millicores(millis) == text


@pytest.mark.parametrize("count, text", [(128 * 2**20, "128Mi"), (2**30, "1Gi"), (1536, "1536"),
                                         (1000, "1000"), (0, "0"), (3 * 2**10, "3Ki")])
def test_format_bytes(count, text):
    assert quantity.format_bytes(count) == text
    assert quantity.to_int(text) == count
