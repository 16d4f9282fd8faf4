"""Label and field selectors: parse once, then match many objects fast.

List and Watch take selectors as strings, as kubectl sends them
(`app=web,tier!=db,env in (a,b),!canary`; `spec.nodeName=node1`), and the watch
cache tests each against every event for every watcher, so parsing builds flat
tuples and matching is a short loop. Workload objects carry a LabelSelector
message instead; from_label_selector turns it into the same Selector, whose
str() is the canonical string a controller can put in a List request.

Field selectors only accept the field paths a kind declares below, as in
Kubernetes: anything else is an error naming the path.
"""
import re
from dataclasses import dataclass
from typing import Callable, Mapping

from google.protobuf.message import Message

from controlplane.api import names


class SelectorError(ValueError):
    """A selector that cannot be parsed; the message quotes it and says why."""


# ------------------------------------------------------------ label selectors

@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str              # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...]    # sorted; one for = and !=, none for exists and !

    def __str__(self) -> str:
        if self.operator == "exists":
            return self.key
        if self.operator == "!":
            return f"!{self.key}"
        if self.operator in ("in", "notin"):
            return f"{self.key} {self.operator} ({','.join(self.values)})"
        return f"{self.key}{self.operator}{self.values[0]}"


# How each operator tests a label's value (None when the label is absent).
_MUST_BE_IN, _MUST_NOT_BE_IN, _MUST_EXIST, _MUST_NOT_EXIST = range(4)
_TEST = {"=": _MUST_BE_IN, "in": _MUST_BE_IN, "!=": _MUST_NOT_BE_IN, "notin": _MUST_NOT_BE_IN,
         "exists": _MUST_EXIST, "!": _MUST_NOT_EXIST}


class _AllOf:
    """Requirements that must all hold; no requirements match everything."""

    __slots__ = ("requirements", "_tests")

    @property
    def empty(self) -> bool:
        return not self.requirements

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and self.requirements == other.requirements

    def __hash__(self) -> int:
        return hash(self.requirements)


class Selector(_AllOf):
    """A label selector."""

    __slots__ = ()

    def __init__(self, requirements=()):
        self.requirements = tuple(sorted(requirements, key=lambda r: (r.key, r.operator)))
        self._tests = tuple((r.key, _TEST[r.operator], frozenset(r.values)) for r in self.requirements)

    def matches(self, labels: Mapping[str, str]) -> bool:
        for key, test, values in self._tests:
            value = labels.get(key)
            if test == _MUST_BE_IN:
                if value not in values:
                    return False
            elif test == _MUST_NOT_BE_IN:
                if value in values:
                    return False
            elif (value is None) == (test == _MUST_EXIST):
                return False
        return True


_TOKEN = re.compile(r"\s*(==|!=|=|!|\(|\)|,|[^\s!=,()]+)")
_PUNCTUATION = {"==", "!=", "=", "!", "(", ")", ","}


def parse_label_selector(text: str) -> Selector:
    """Parse `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, joined by commas."""
    return _LabelParser(text).parse()


class _LabelParser:
    """A recursive-descent parser over the selector's tokens; errors quote the whole selector."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = [m.group(1) for m in _TOKEN.finditer(text.rstrip())]
        self.position = 0

    def parse(self) -> Selector:
        requirements = []
        while self.position < len(self.tokens):
            requirements.append(self.requirement())
            if self.peek() not in ("", ","):
                self.fail(f"unexpected {self.peek()!r} after {str(requirements[-1])!r}")
            if self.take() == "," and not self.peek():
                self.fail("a requirement must follow ','")
        return Selector(requirements)

    def requirement(self) -> Requirement:
        negated = self.peek() == "!"
        if negated:
            self.take()
        key = self.word("a label key")
        if negated:
            return _requirement(key, "!", (), self.fail)
        if self.peek() in ("=", "==", "!="):
            operator = "!=" if self.take() == "!=" else "="
            value = self.take() if self.peek() and self.peek() not in _PUNCTUATION else ""
            return _requirement(key, operator, (value,), self.fail)
        if self.peek() in ("in", "notin"):
            operator = self.take()
            return _requirement(key, operator, self.value_set(f"{key} {operator}"), self.fail)
        return _requirement(key, "exists", (), self.fail)

    def value_set(self, context: str) -> list[str]:
        if self.take() != "(":
            self.fail(f'expected "(" after "{context}"')
        values = [self.word(f'a value in "{context} (...)"')]
        while (separator := self.take()) == ",":
            values.append(self.word(f'a value in "{context} (...)"'))
        if separator != ")":
            self.fail(f'expected "," or ")" in "{context} (...)"')
        return values

    def word(self, what: str) -> str:
        token = self.take()
        if not token or token in _PUNCTUATION:
            self.fail(f"expected {what}, found {token or 'the end'!r}")
        return token

    def peek(self) -> str:
        return self.tokens[self.position] if self.position < len(self.tokens) else ""

    def take(self) -> str:
        token = self.peek()
        self.position += 1
        return token

    def fail(self, problem: str):
        raise SelectorError(f'label selector "{self.text}": {problem}')


def _requirement(key: str, operator: str, values, fail) -> Requirement:
    if problem := names.qualified_name(key):
        fail(f"key {key!r}: {problem}")
    for value in values:
        if problem := names.label_value(value):
            fail(f"value {value!r}: {problem}")
    return Requirement(key, operator, tuple(sorted(set(values))))


_EXPRESSION_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def from_label_selector(selector: Message) -> Selector:
    """The Selector for a LabelSelector message (matchLabels and matchExpressions).

    An empty message matches everything. Kubernetes' "an unset selector matches
    nothing" is the caller's to apply (check HasField first).
    """
    def fail(problem: str):
        raise SelectorError(f"label selector: {problem}")

    requirements = [_requirement(k, "=", [v], fail) for k, v in selector.match_labels.items()]
    for expression in selector.match_expressions:
        operator = _EXPRESSION_OPERATORS.get(expression.operator)
        if operator is None:
            fail(f'operator "{expression.operator}" is not one of In, NotIn, Exists, DoesNotExist')
        if (operator in ("in", "notin")) != bool(expression.values):
            fail(f'"{expression.key}" {expression.operator}: values must be given for In and NotIn only')
        requirements.append(_requirement(expression.key, operator, expression.values, fail))
    return Selector(requirements)


# ------------------------------------------------------------ field selectors

def _field(getter: Callable[[Message], object]) -> Callable[[Message], str]:
    """A getter for a bool or int field that gives the text a selector compares ("true", "3")."""
    def text(obj) -> str:
        value = getter(obj)
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    return text


_COMMON_FIELDS = {
    "metadata.name": lambda o: o.metadata.name,
    "metadata.namespace": lambda o: o.metadata.namespace,
}

# Per kind, the field paths a field selector may test (Kubernetes' selectable fields).
FIELDS: dict[str, dict[str, Callable[[Message], str]]] = {
    "Pod": {
        "spec.nodeName": lambda o: o.spec.node_name,
        "spec.restartPolicy": lambda o: o.spec.restart_policy,
        "spec.schedulerName": lambda o: o.spec.scheduler_name,
        "spec.serviceAccountName": lambda o: o.spec.service_account_name,
        "spec.hostNetwork": _field(lambda o: o.spec.host_network),
        "status.phase": lambda o: o.status.phase,
        "status.podIP": lambda o: o.status.pod_ip,
        "status.nominatedNodeName": lambda o: o.status.nominated_node_name,
    },
    "Event": {
        "involvedObject.kind": lambda o: o.involved_object.kind,
        "involvedObject.namespace": lambda o: o.involved_object.namespace,
        "involvedObject.name": lambda o: o.involved_object.name,
        "involvedObject.uid": lambda o: o.involved_object.uid,
        "involvedObject.apiVersion": lambda o: o.involved_object.api_version,
        "involvedObject.resourceVersion": lambda o: o.involved_object.resource_version,
        "involvedObject.fieldPath": lambda o: o.involved_object.field_path,
        "reason": lambda o: o.reason,
        "reportingComponent": lambda o: o.reporting_component,
        "source": lambda o: o.source.component,
        "type": lambda o: o.type,
    },
    "Node": {"spec.unschedulable": _field(lambda o: o.spec.unschedulable)},
    "Namespace": {"status.phase": lambda o: o.status.phase},
    "Secret": {"type": lambda o: o.type},
    "Service": {"spec.clusterIP": lambda o: o.spec.cluster_ip, "spec.type": lambda o: o.spec.type},
    "ReplicaSet": {"status.replicas": _field(lambda o: o.status.replicas)},
    "Job": {"status.successful": _field(lambda o: o.status.succeeded)},
}


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    equal: bool   # = and == when True, != when False
    value: str

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
        return f"{self.path}{'=' if self.equal else '!='}{escaped}"


class FieldSelector(_AllOf):
    """A field selector, bound to the field getters of one kind."""

    __slots__ = ()

    def __init__(self, requirements, getters: Mapping[str, Callable[[Message], str]]):
        self.requirements = tuple(requirements)
        self._tests = tuple((getters[r.path], r.equal, r.value) for r in self.requirements)

    def matches(self, obj: Message) -> bool:
        for getter, equal, value in self._tests:
            if (getter(obj) == value) != equal:
                return False
        return True


_FIELD_TERM = re.compile(r"([^=!]*?)\s*(!=|==|=)\s*(.*)", re.DOTALL)


def parse_field_selector(text: str, kind: str) -> FieldSelector:
    """Parse `path=value`, `path==value`, `path!=value` joined by commas, for kind `kind` ("Pod").

    In values, `\\,`, `\\=` and `\\\\` stand for ',', '=' and '\\'.
    """
    getters = _COMMON_FIELDS | FIELDS.get(kind, {})
    requirements = []
    for term in _split_unescaped(text):
        match = _FIELD_TERM.fullmatch(term.strip())
        if not match or not match.group(1):
            raise SelectorError(f'field selector "{text}": "{term}" is not path=value, path==value '
                                "or path!=value")
        path, operator, value = match.groups()
        if path not in getters:
            raise SelectorError(f'field selector "{text}": field "{path}" is not supported for '
                                f'{kind}; supported: {", ".join(sorted(getters))}')
        requirements.append(FieldRequirement(path, operator != "!=", _unescape(value, text)))
    return FieldSelector(requirements, getters)


def _split_unescaped(text: str) -> list[str]:
    """The non-blank terms between commas that are not escaped by a backslash."""
    terms, current, chars = [], [], iter(text)
    for char in chars:
        if char == "\\":
            current.append(char + next(chars, ""))
        elif char == ",":
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    terms.append("".join(current))
    return [term for term in terms if term.strip()]


def _unescape(value: str, text: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            if escaped not in ("\\", ",", "="):
                raise SelectorError(f'field selector "{text}": invalid escape "\\{escaped}" '
                                    "(only \\\\, \\, and \\= are allowed)")
            char = escaped
        elif char in ",=":
            raise SelectorError(f'field selector "{text}": "{char}" in a value must be escaped as "\\{char}"')
        out.append(char)
    return "".join(out)
