"""nft itself, for the tests: the renderer's commands in nft's own syntax, applied with `nft -f`,
and tables read back with `nft list`. The reference the agent's netlink path is checked against.

Why nft's text and not its JSON: nft 1.0.6's JSON cannot declare a map by
`typeof` (the endpoint maps are keyed by a `numgen` number, which has no type
name), nor a map with concatenated data; its text syntax can. This writer is a
second, independent reading of the same commands: nft parses and encodes what
it says, the agent's encoder (agent/proxy/nlencode.py) encodes the commands
itself, and the kernel tests compare the two tables.

Test code only: nft 1.0.6 reads a `typeof` map back from the kernel wrongly
("conflicting protocols specified: ip vs. th") when a later, separate
transaction adds a rule that uses it, so nft can rebuild the table whole but
not apply every partial change; the agent applies only through netlink.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from agent.proxy.applier import Applier
from agent.proxy.names import FAMILY


class Nft(Applier):
    """The nft command in a network namespace (a name under /run/netns, or a path), fed the
    proxy's commands in nft's own syntax."""

    def __init__(self, netns: str):
        super().__init__(netns=netns, timeout=120)

    def apply(self, commands: list[dict[str, Any]]) -> None:
        self._run(["-f", "-"], transaction(commands))

    def listings(self, table: str) -> tuple[str, list[str], list[str]]:
        """The table three ways, for comparing two tables: as nft prints it; its JSON objects
        without handles; and what the kernel holds, as `--debug=netlink` prints it (each rule's
        expressions, each set's elements), one block per rule or set, handles removed, element
        lines sorted (a hash set's order differs from set to set). Objects and blocks are
        sorted: tables built in a different order compare equal."""
        text = self._run(["list", "table", FAMILY, table], None)
        objects = sorted(json.dumps({kind: {k: v for k, v in body.items() if k != "handle"}}, sort_keys=True)
                         for item in self.list_table(table) for kind, body in item.items() if kind != "metainfo")
        blocks: list[list[str]] = []
        debug = self._run(["--debug=netlink", "list", "table", FAMILY, table], None)
        for line in debug[:debug.index(f"table {FAMILY} {table} {{")].splitlines():  # then the usual listing
            if not line.strip():
                continue
            if line[0].isspace():
                blocks[-1].append(line)
            else:  # "ip TABLE CHAIN HANDLE [PREVIOUS HANDLE]" or "ip TABLE @SET"
                blocks.append([" ".join(line.split()[:3])])
        kernel = sorted("\n".join([head, *(sorted(rest) if head.split()[2].startswith("@") else rest)])
                        for head, *rest in blocks)
        return text, objects, kernel


def transaction(commands: Iterable[dict[str, Any]]) -> str:
    return "".join(_command(command) + "\n" for command in commands)


def _only(obj: dict[str, Any]) -> tuple[str, Any]:
    [(kind, body)] = obj.items()
    return kind, body


def _command(command: dict[str, Any]) -> str:
    verb, target = _only(command)
    kind, body = _only(target)
    if kind == "table":
        return f"{verb} table {body['family']} {body['name']}"
    where = f"{body['family']} {body['table']}"
    if kind == "chain":
        base = (f" {{ type {body['type']} hook {body['hook']} priority {body['prio']}; policy {body['policy']}; }}"
                if "hook" in body else "")
        return f"{verb} chain {where} {body['name']}{base}"
    if kind == "rule":
        return f"add rule {where} {body['chain']} " + " ".join(_statement(s) for s in body["expr"])
    if kind in ("set", "map"):
        if verb == "delete":
            return f"delete {kind} {where} {body['name']}"
        return f"add {kind} {where} {body['name']} {{ {_declaration(body)} }}"
    if kind == "element":
        return f"{verb} element {where} {body['name']} {{ {', '.join(_element(e) for e in body['elem'])} }}"
    raise ValueError(f"command {command!r}: not one the writer knows")


def _declaration(body: dict[str, Any]) -> str:
    if "typeof" in body:
        text = f"typeof {_expr(body['typeof'])} : {_expr(body['map'])};"
    else:
        types = body["type"] if isinstance(body["type"], list) else [body["type"]]
        text = "type " + " . ".join(types) + (f" : {body['map']}" if "map" in body else "") + ";"
    if body.get("flags"):
        text += f" flags {','.join(body['flags'])};"
    if "timeout" in body:
        text += f" timeout {body['timeout']}s;"
    return text


def _element(elem: Any) -> str:
    if isinstance(elem, list):
        key, value = elem
        return f"{_value(key)} : {_statement(value) if 'goto' in value else _value(value)}"
    return _value(elem)


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return " . ".join(_value(part) for part in value["concat"])
    return str(value)


def _expr(expr: Any) -> str:
    if not isinstance(expr, dict):
        return str(expr)
    kind, body = _only(expr)
    if kind == "payload":
        return f"{body['protocol']} {body['field']}"
    if kind == "meta":
        return f"meta {body['key']}"
    if kind == "ct":
        return f"ct {body['dir']} {body['key']}"
    if kind == "numgen":
        return f"numgen {body['mode']} mod {body['mod']}" + (f" offset {body['offset']}" if body.get("offset") else "")
    if kind == "concat":
        return " . ".join(_expr(part) for part in body)
    if kind in ("&", "|"):
        left, right = body
        return f"{_expr(left)} {kind} {right:#010x}"
    raise ValueError(f"expression {expr!r}: not one the writer knows")


def _statement(stmt: dict[str, Any]) -> str:
    kind, body = _only(stmt)
    if kind == "match":
        right = body["right"]
        if isinstance(right, str) and right.startswith("@"):
            return f"{_expr(body['left'])} {right}"
        return f"{_expr(body['left'])} {body['op']} {right}"
    if kind in ("goto", "jump"):
        return f"{kind} {body['target']}"
    if kind == "vmap":
        return f"{_expr(body['key'])} vmap {body['data']}"
    if kind == "dnat":
        addr = body["addr"]
        if isinstance(addr, dict):
            return f"dnat {body['family']} to {_expr(addr['map']['key'])} map {addr['map']['data']}"
        return f"dnat to {addr}:{body['port']}"
    if kind == "set":
        return f"{body['op']} {body['set']} {{ {_expr(body['elem'])} }}"
    if kind == "mangle":
        return f"{_expr(body['key'])} set {_expr(body['value'])}"
    if kind in ("masquerade", "drop"):
        return kind
    if kind == "reject":
        return "reject with tcp reset" if body["type"] == "tcp reset" else f"reject with icmp type {body['expr']}"
    raise ValueError(f"statement {stmt!r}: not one the writer knows")
