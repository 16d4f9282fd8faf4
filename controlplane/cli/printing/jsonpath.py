"""kubectl's JSONPath templates, for `-o jsonpath=`, `-o custom-columns=`, `--sort-by` and `wait --for=jsonpath=`.

A template is text with `{...}` actions: a path (`{.items[*].metadata.name}`),
a string literal (`{"\\n"}`), or `{range PATH}...{end}`. A path walks the
object: `.field` (dots inside a key escaped as `\\.`), `..field` (anywhere
below), `[n]`, `[a:b]`, `[*]`, `['key']`, `[a,b]` and filters
`[?(@.type=="Ready")]` (==, !=, <, <=, >, >=, or a bare path: present).
Several results of one action print separated by spaces; strings print bare,
maps and lists as JSON; a key that is missing prints nothing (kubectl's
`--allow-missing-template-keys`, true by default). Pure: text and data in,
text out.
"""
import json
import re
from dataclasses import dataclass


class JSONPathError(ValueError):
    """A template that does not parse."""


@dataclass(frozen=True)
class _Text:
    text: str


@dataclass(frozen=True)
class _Path:
    steps: tuple


@dataclass(frozen=True)
class _Range:
    path: _Path
    body: tuple


def relaxed(expression: str) -> str:
    """custom-columns' and --sort-by's spelling: `.a.b`, `a.b` and `{.a.b}` all mean `{.a.b}`."""
    expression = expression.strip()
    if expression.startswith("{") and expression.endswith("}"):
        return expression
    return "{" + ("" if expression.startswith((".", "@", "$", "[")) else ".") + expression + "}"


def parse(template: str) -> tuple:
    """The template as a tree of text, paths and ranges; JSONPathError naming what is wrong."""
    nodes, rest = _parse_block(template, top=True)
    if rest:
        raise JSONPathError(f"unexpected {{end}} in {template!r}")
    return nodes


def render(template: str, data) -> str:
    """The template filled in from `data` (dicts and lists, as JSON decodes)."""
    return "".join(_run(parse(template), data))


def find(template: str, data) -> list:
    """The values a one-path template selects (for sorting and column cells)."""
    nodes = parse(template)
    paths = [n for n in nodes if isinstance(n, _Path)]
    if len(paths) != 1 or len(nodes) != 1:
        raise JSONPathError(f"{template!r}: expected one path such as {{.metadata.name}}")
    return _walk(paths[0].steps, [data])


def text(value) -> str:
    """One result as kubectl prints it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else str(value)


def _parse_block(template: str, *, top: bool) -> tuple[tuple, str]:
    """Nodes up to the end (top) or up to a matching {end}; returns (nodes, text after {end})."""
    nodes = []
    while template:
        start = template.find("{")
        if start < 0:
            nodes.append(_Text(template))
            return tuple(nodes), ""
        if start:
            nodes.append(_Text(template[:start]))
        close = _closing(template, start)
        action, template = template[start + 1:close].strip(), template[close + 1:]
        if action == "end":
            if top:
                return tuple(nodes), "{end}" + template
            return tuple(nodes), template
        if action.startswith("range "):
            body, template = _parse_block(template, top=False)
            nodes.append(_Range(_parse_path(action[len("range "):].strip()), body))
        elif action.startswith('"'):
            nodes.append(_Text(json.loads(action)))
        else:
            nodes.append(_parse_path(action))
    if not top:
        raise JSONPathError("{range} without {end}")
    return tuple(nodes), ""


def _closing(template: str, start: int) -> int:
    """The index of the `}` closing the action at `start` (quotes may hold braces)."""
    quote = None
    for index in range(start + 1, len(template)):
        char = template[index]
        if quote:
            if char == "\\":
                continue
            if char == quote and template[index - 1] != "\\":
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "}":
            return index
    raise JSONPathError(f"unclosed action in {template!r}")


_NAME = re.compile(r"(?:\\.|[^.\[\\])+")


def _parse_path(path: str) -> _Path:
    steps, at = [], 0
    if path[:1] in ("@", "$"):
        at = 1
    while at < len(path):
        if path.startswith("..", at):
            match = _NAME.match(path, at + 2)
            if not match:
                raise JSONPathError(f"{path!r}: a name must follow '..'")
            steps.append(("recursive", match.group().replace("\\.", ".")))
            at = match.end()
        elif path[at] == ".":
            match = _NAME.match(path, at + 1)
            if match:
                name = match.group().replace("\\.", ".")
                steps.append(("all",) if name == "*" else ("key", name))
                at = match.end()
            else:
                at += 1
        elif path[at] == "[":
            close = _bracket_end(path, at)
            steps.append(_subscript(path[at + 1:close].strip(), path))
            at = close + 1
        else:
            raise JSONPathError(f"{path!r}: unexpected {path[at]!r} at {at}")
    return _Path(tuple(steps))


def _bracket_end(path: str, start: int) -> int:
    depth, quote = 0, None
    for index in range(start, len(path)):
        char = path[index]
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth == 0:
                return index
    raise JSONPathError(f"{path!r}: unclosed '['")


def _subscript(inner: str, path: str) -> tuple:
    if inner == "*":
        return ("all",)
    if inner.startswith("?(") and inner.endswith(")"):
        return ("filter", _condition(inner[2:-1].strip(), path))
    if ":" in inner:
        parts = [int(p) if p.strip() else None for p in inner.split(":")]
        return ("slice", slice(*parts))
    keys = []
    for part in inner.split(","):
        part = part.strip()
        if part[:1] in "\"'" and part[-1:] == part[:1]:
            keys.append(part[1:-1])
        else:
            try:
                keys.append(int(part))
            except ValueError:
                raise JSONPathError(f"{path!r}: cannot read [{inner}]") from None
    return ("keys", tuple(keys))


_CONDITION = re.compile(r"^(@[^<>=!~ ]*)\s*(==|!=|<=|>=|<|>)\s*(.+)$")


def _condition(text: str, path: str) -> tuple:
    match = _CONDITION.match(text)
    if not match:
        if text.startswith("@"):
            return (_parse_path(text), "exists", None)
        raise JSONPathError(f"{path!r}: cannot read the filter {text!r}")
    left, op, right = match.groups()
    right = right.strip()
    if right[:1] in "\"'":
        value = right[1:-1]
    else:
        try:
            value = json.loads(right)
        except ValueError:
            raise JSONPathError(f"{path!r}: cannot read {right!r} in the filter") from None
    return (_parse_path(left), op, value)


_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _matches(item, condition: tuple) -> bool:
    path, op, value = condition
    found = _walk(path.steps, [item])
    if op == "exists":
        return bool(found)
    try:
        return any(_COMPARE[op](v, value) for v in found)
    except TypeError:
        return False


def _walk(steps: tuple, values: list) -> list:
    for step in steps:
        values = [child for value in values for child in _step(step, value)]
    return values


def _step(step: tuple, value) -> list:
    what = step[0]
    if what == "key":
        return [value[step[1]]] if isinstance(value, dict) and step[1] in value else []
    if what == "all":
        return list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, list) else []
    if what == "slice":
        return value[step[1]] if isinstance(value, list) else []
    if what == "keys":
        out = []
        for key in step[1]:
            if isinstance(key, int) and isinstance(value, list) and -len(value) <= key < len(value):
                out.append(value[key])
            elif isinstance(key, str) and isinstance(value, dict) and key in value:
                out.append(value[key])
        return out
    if what == "filter":
        items = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else []
        return [item for item in items if _matches(item, step[1])]
    return _recursive(step[1], value)


def _recursive(name: str, value) -> list:
    out = []
    if isinstance(value, dict):
        if name in value:
            out.append(value[name])
        children = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return out
    for child in children:
        out.extend(_recursive(name, child))
    return out


def _run(nodes: tuple, data):
    for node in nodes:
        if isinstance(node, _Text):
            yield node.text
        elif isinstance(node, _Path):
            yield " ".join(text(v) for v in _walk(node.steps, [data]))
        else:
            for item in _walk(node.path.steps, [data]):
                yield from _run(node.body, item)
