"""Builders for nft's JSON schema (libnftables-json(5)): expressions and commands.

Plain dicts and lists. Only the pieces the proxy uses; each mirrors one nft
construct so a reader can map the rendered commands back to `nft list table`
output. One addition to the schema: a set or map declared by the expressions
it is looked up with, nft's `typeof` (`{"typeof": key expression, "map": data
expression}`), which nft 1.0.6's JSON cannot say and the endpoint maps need
(their key ends in a `numgen` number). nlencode.py turns the commands into
netlink messages; tests/proxy/nfttext.py into nft's own syntax.
"""
from __future__ import annotations

from typing import Any, Hashable, Iterable

from agent.proxy.names import FAMILY

Expr = dict[str, Any]
Rule = list[Expr]
Command = dict[str, Any]


# -- expressions

def payload(protocol: str, field: str) -> Expr:
    return {"payload": {"protocol": protocol, "field": field}}


def meta(key: str) -> Expr:
    return {"meta": {"key": key}}


def concat(*items: Any) -> Expr:
    return {"concat": list(items)}


def match(left: Any, right: Any, op: str = "==") -> Expr:
    return {"match": {"op": op, "left": left, "right": right}}


def goto(chain: str) -> Expr:
    return {"goto": {"target": chain}}


DROP: Expr = {"drop": None}


def jump(chain: str) -> Expr:
    return {"jump": {"target": chain}}


def vmap(key: Expr, map_name: str) -> Expr:
    return {"vmap": {"key": key, "data": f"@{map_name}"}}


def in_set(key: Any, set_name: str) -> Expr:
    return match(key, f"@{set_name}")


def numgen_random(mod: int) -> Expr:
    return {"numgen": {"mode": "random", "mod": mod, "offset": 0}}


def set_mark(value: Expr) -> Expr:
    return {"mangle": {"key": meta("mark"), "value": value}}


def update_set(elem: Expr, set_name: str) -> Expr:
    return {"set": {"op": "update", "elem": elem, "set": f"@{set_name}"}}


def dnat(addr: str, port: int) -> Expr:
    return {"dnat": {"addr": addr, "port": port}}


def dnat_map(key: Expr, map_name: str) -> Expr:
    """DNAT to the address . port that `key` finds in map `map_name`."""
    return {"dnat": {"family": "ip", "addr": {"map": {"key": key, "data": f"@{map_name}"}}}}


DADDR = payload("ip", "daddr")
CT_ORIGINAL_DADDR = {"ct": {"key": "ip daddr", "dir": "original"}}  # before DNAT: the Service's address
CT_ORIGINAL_DPORT = {"ct": {"key": "proto-dst", "dir": "original"}}  # and its port
SADDR = payload("ip", "saddr")
DPORT = payload("th", "dport")
L4PROTO = meta("l4proto")
MARK = meta("mark")


# -- set elements: keys are tuples (a concatenation) or single values; a map's value is a chain
# name (a goto verdict) or a tuple (concatenated data); a set's is None

def element_key(key: Hashable) -> Any:
    return concat(*key) if isinstance(key, tuple) else key


def element(key: Hashable, value: str | tuple | None) -> Any:
    if value is None:
        return element_key(key)
    return [element_key(key), goto(value) if isinstance(value, str) else concat(*value)]


# -- commands on one table

class Table:
    """Commands addressed to one table, so no call site repeats family and name."""

    def __init__(self, name: str):
        self.name = name
        self._ref = {"family": FAMILY, "table": name}

    def recreate(self) -> list[Command]:
        """add + delete + add: an atomic "replace the whole table", whether it existed or not."""
        add = {"add": {"table": {"family": FAMILY, "name": self.name}}}
        return [add, self.delete(), add]

    def delete(self) -> Command:
        """Delete the table and everything in it (refused if there is no such table)."""
        return {"delete": {"table": {"family": FAMILY, "name": self.name}}}

    def add_chain(self, name: str, **base: Any) -> Command:
        return {"add": {"chain": {**self._ref, "name": name, **base}}}

    def flush_chain(self, name: str) -> Command:
        return {"flush": {"chain": {**self._ref, "name": name}}}

    def delete_chain(self, name: str) -> Command:
        return {"delete": {"chain": {**self._ref, "name": name}}}

    def add_rule(self, chain: str, rule: Rule) -> Command:
        return {"add": {"rule": {**self._ref, "chain": chain, "expr": rule}}}

    def add_set(self, name: str, decl: dict[str, Any]) -> Command:
        kind = "map" if "map" in decl else "set"
        return {"add": {kind: {**self._ref, "name": name, **decl}}}

    def delete_set(self, name: str) -> Command:
        return {"delete": {"set": {**self._ref, "name": name}}}

    def add_elements(self, set_name: str, elems: Iterable[Any]) -> Command:
        return {"add": {"element": {**self._ref, "name": set_name, "elem": list(elems)}}}

    def delete_elements(self, set_name: str, keys: Iterable[Any]) -> Command:
        return {"delete": {"element": {**self._ref, "name": set_name, "elem": list(keys)}}}
