"""Checks shared by every kind's validation, each a generator of FieldErrors.

Validators are generators so that a check reads as the rule it enforces
(`if not c.image: yield FieldError(...)`) and composes with `yield from`;
the package's entry points collect them into one list.
"""
import ipaddress
from typing import Callable, Iterable, Iterator

from controlplane.api import names, quantity
from controlplane.api.errors import FieldError

Errors = Iterator[FieldError]

# Label selector operators as Kubernetes spells them in LabelSelector messages.
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def syntax(path: str, value: str, rule: Callable[[str], str | None]) -> Errors:
    """The value must pass one of the `names` rules."""
    if (problem := rule(value)) is not None:
        yield FieldError(path, f'"{value}": {problem}' if value else problem)


def required_syntax(path: str, value: str, rule: Callable[[str], str | None]) -> Errors:
    if not value:
        yield FieldError(path, "required")
    else:
        yield from syntax(path, value, rule)


def one_of(path: str, value: str, allowed: Iterable[str], *, required: bool = False) -> Errors:
    """An enum-like string; empty is allowed unless `required` (defaults fill most)."""
    if not value:
        if required:
            yield FieldError(path, "required")
    elif value not in allowed:
        choices = ", ".join(f'"{choice}"' for choice in allowed)
        yield FieldError(path, f'unsupported value "{value}": supported values: {choices}')


def at_least(path: str, value: int, low: int) -> Errors:
    if value < low:
        yield FieldError(path, f"must be greater than or equal to {low}")


def between(path: str, value: int, low: int, high: int) -> Errors:
    if not low <= value <= high:
        yield FieldError(path, f"must be between {low} and {high}, inclusive")


def optional_at_least(message, field: str, path: str, low: int) -> Errors:
    """Like at_least for an `optional` field, only when it is set."""
    if message.HasField(field):
        yield from at_least(path, getattr(message, field), low)


def optional_value(message, field: str):
    """An `optional` field's value, or None when unset (so unset and 0 compare different)."""
    return getattr(message, field) if message.HasField(field) else None


def immutable(path: str, new, old) -> Errors:
    if new != old:
        yield FieldError(path, "field is immutable")


def labels(path: str, mapping) -> Errors:
    """Label keys are qualified names and values label values."""
    for key in sorted(mapping):
        yield from syntax(path, key, names.qualified_name)
        yield from syntax(f"{path}[{key}]", mapping[key], names.label_value)


def label_selector(path: str, selector) -> Errors:
    yield from labels(f"{path}.matchLabels", selector.match_labels)
    for index, expression in enumerate(selector.match_expressions):
        here = f"{path}.matchExpressions[{index}]"
        yield from required_syntax(f"{here}.key", expression.key, names.qualified_name)
        yield from one_of(f"{here}.operator", expression.operator, SELECTOR_OPERATORS, required=True)
        if expression.operator in ("In", "NotIn") and not expression.values:
            yield FieldError(f"{here}.values", "must be specified when `operator` is 'In' or 'NotIn'")
        if expression.operator in ("Exists", "DoesNotExist") and expression.values:
            yield FieldError(f"{here}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        for position, value in enumerate(expression.values):
            yield from syntax(f"{here}.values[{position}]", value, names.label_value)


def duplicate(path: str, value: str, seen: set, what: str = "name") -> Errors:
    """A name that must be unique among its siblings; `seen` collects them."""
    if value and value in seen:
        yield FieldError(path, f'duplicate {what} "{value}"')
    seen.add(value)


def port_number(path: str, value: int) -> Errors:
    if not value:
        yield FieldError(path, "required")
    else:
        yield from between(path, value, 1, 65535)


def is_extended_resource(name: str) -> bool:
    """A vendor resource such as example.com/gpu (not in the kubernetes.io domain)."""
    prefix, slash, _ = name.partition("/")
    return bool(slash) and not prefix.endswith("kubernetes.io") and names.qualified_name(name) is None


def resource_amounts(path: str, entries, known: tuple[str, ...], amounts: dict | None = None) -> Errors:
    """A map of resource name to quantity (requests, limits, capacity): known or extended names,
    quantities that parse and are not negative, whole numbers for extended resources.
    The values that pass are put in `amounts`, by name."""
    for name in sorted(entries):
        here = f"{path}[{name}]"
        if name not in known and not is_extended_resource(name):
            yield FieldError(here, f'unknown resource name "{name}": supported: {", ".join(known)} '
                             "or a domain-qualified extended resource")
            continue
        value = quantity_value(here, entries[name])
        if isinstance(value, FieldError):
            yield value
        elif name not in known and value.denominator != 1:
            yield FieldError(here, f'"{entries[name]}": must be a whole number for extended resources')
        elif amounts is not None:
            amounts[name] = value


def quantity_value(path: str, text: str):
    """The quantity's value, or the FieldError saying why it is not one."""
    try:
        value = quantity.parse(text)
    except quantity.QuantityError as exc:
        return FieldError(path, str(exc))
    if value < 0:
        return FieldError(path, f'"{text}": must be greater than or equal to 0')
    return value


def ip_address(path: str, text: str) -> Errors:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        yield FieldError(path, f'"{text}": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')


def int_or_string_port(path: str, value) -> Errors:
    """A probe's or service's target port: a number 1-65535 or a container port's name."""
    which = value.WhichOneof("kind")
    if which == "string_value":
        yield from required_syntax(path, value.string_value, names.port_name)
    elif which == "number_value":
        yield from between(path, int(value.number_value), 1, 65535)
    else:
        yield FieldError(path, "required")


def exactly_one(path: str, message, choices: Iterable[str], what: str) -> Errors:
    """Exactly one of `choices` (JSON names) must be set on `message`."""
    present = [field.json_name for field, _ in message.ListFields() if field.json_name in choices]
    if not present:
        yield FieldError(path, f"must specify a {what}: one of {', '.join(choices)}")
    elif len(present) > 1:
        yield FieldError(path, f"may not specify more than one {what} (found {', '.join(present)})")
