"""The renderer: proxy state in, nft JSON out. Pure: no kernel, no clock, no I/O.

Two levels, so the change tracker can reuse the second:
- `full_transaction(table, state)`: every command that rebuilds the table from
  nothing, atomically (the table is replaced in the same transaction).
- `render_service(name, info, endpoints)`: one Service port's share of the
  table (its chains with their rules, its affinity sets, its elements in the
  shared maps and sets), as data the change tracker can compare.

Endpoint choice is a cascade of `numgen random mod k` rules (k = n, n-1, ...,
1), which picks uniformly. The tidier anonymous `numgen ... vmap { ... }` makes
one anonymous set per service, and the kernel finds a free anonymous set name
by scanning every set in the table: quadratic, measured at 45 s for 10,000
services (0.4 s for 1,000). The cascade costs a rule per endpoint per new
connection, the same whatever the number of Services.
"""
from __future__ import annotations

import contextlib
import functools
import gc
from dataclasses import dataclass, field
from typing import Any, Hashable

from agent.proxy import names as n
from agent.proxy import nftjson as j
from agent.proxy.model import PROTOCOLS, Endpoint, ProxyState, ServicePortInfo, ServicePortName

# The shared sets and maps, declared as data: name -> nft JSON set/map body.
SHARED_SETS: dict[str, dict[str, Any]] = {
    n.SERVICE_IPS: {"type": ["ipv4_addr", "inet_proto", "inet_service"], "map": "verdict"},
    n.SERVICE_NODEPORTS: {"type": ["inet_proto", "inet_service"], "map": "verdict"},
    n.NO_ENDPOINT_SERVICES: {"type": ["ipv4_addr", "inet_proto", "inet_service"]},
    n.NO_ENDPOINT_NODEPORTS: {"type": ["inet_proto", "inet_service"]},
    n.NODE_IPS: {"type": "ipv4_addr"},
    n.HAIRPIN: {"type": ["ipv4_addr", "ipv4_addr"]},
}

# The shared regular chains and their rules, declared as data.
SHARED_CHAINS: dict[str, list[j.Rule]] = {
    n.SERVICES: [
        [j.vmap(j.concat(j.DADDR, j.L4PROTO, j.DPORT), n.SERVICE_IPS)],
        [j.in_set(j.DADDR, n.NODE_IPS), j.vmap(j.concat(j.L4PROTO, j.DPORT), n.SERVICE_NODEPORTS)],
    ],
    n.NO_ENDPOINTS: [
        [j.in_set(j.concat(j.DADDR, j.L4PROTO, j.DPORT), n.NO_ENDPOINT_SERVICES), j.goto(n.REJECT)],
        [j.in_set(j.DADDR, n.NODE_IPS), j.in_set(j.concat(j.L4PROTO, j.DPORT), n.NO_ENDPOINT_NODEPORTS),
         j.goto(n.REJECT)],
    ],
    n.REJECT: [
        [j.match(j.L4PROTO, "tcp"), {"reject": {"type": "tcp reset"}}],
        [{"reject": {"type": "icmp", "expr": "port-unreachable"}}],
    ],
    n.MARK_FOR_MASQUERADE: [
        [j.set_mark({"|": [j.MARK, n.MASQUERADE_MARK]})],
    ],
    n.MASQUERADING: [
        # NodePort traffic, marked on its way in: masquerade so replies come back through this node.
        [j.match({"&": [j.MARK, n.MASQUERADE_MARK]}, n.MASQUERADE_MARK),
         j.set_mark({"&": [j.MARK, 0xFFFFFFFF ^ n.MASQUERADE_MARK]}), {"masquerade": None}],
        # Hairpin: a pod sent to a Service and was chosen itself; after DNAT the packet runs
        # from its address to its address. Without masquerade the pod would answer itself
        # directly and drop the reply as unknown. A set lookup instead of a rule per endpoint.
        [j.in_set(j.concat(j.SADDR, j.DADDR), n.HAIRPIN), {"masquerade": None}],
    ],
}

Elements = dict[str, dict[Hashable, str | None]]  # set/map name -> key -> target chain (None for sets)


@dataclass(frozen=True)
class ServiceRules:
    """One Service port's share of the table."""

    chains: dict[str, list[j.Rule]] = field(default_factory=dict)
    sets: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-endpoint affinity sets
    elements: Elements = field(default_factory=dict)  # in the shared sets and maps
    endpoint_ips: frozenset[str] = frozenset()  # for the shared hairpin set


NO_RULES = ServiceRules()


# Sub-expressions every service shares, built once (rendering 10,000 services is mostly dict building).
_PROTOCOL_MATCH = {protocol: j.match(j.L4PROTO, protocol) for protocol in PROTOCOLS}


@functools.cache
def _draw(k: int) -> j.Expr:
    """True with probability 1/k."""
    return j.match(j.numgen_random(k), 0)


def identity(name: ServicePortName, info: ServicePortInfo) -> str:
    return f"{name.namespace}/{name.name}/{info.protocol}/{name.port}"


def ready_sorted(endpoints: tuple[Endpoint, ...]) -> tuple[Endpoint, ...]:
    """Ready endpoints in a fixed order, so a reordered Endpoints object changes nothing."""
    return tuple(sorted({ep for ep in endpoints if ep.ready}, key=lambda ep: (ep.ip, ep.port)))


def render_service(name: ServicePortName, info: ServicePortInfo,
                   endpoints: tuple[Endpoint, ...]) -> ServiceRules:
    ident = identity(name, info)
    vip_key = (info.cluster_ip, info.protocol, info.port)
    nodeport_key = (info.protocol, info.node_port)
    ready = ready_sorted(endpoints)
    if not ready:
        elements: Elements = {n.NO_ENDPOINT_SERVICES: {vip_key: None}}
        if info.node_port:
            elements[n.NO_ENDPOINT_NODEPORTS] = {nodeport_key: None}
        return ServiceRules(elements=elements)

    svc = n.service_chain(ident)
    chains: dict[str, list[j.Rule]] = {}
    sets: dict[str, dict[str, Any]] = {}
    affinity_rules: list[j.Rule] = []
    choice_rules: list[j.Rule] = []
    for i, ep in enumerate(ready):
        ep_chain = n.endpoint_chain(ident, ep.ip, ep.port)
        ep_rules: list[j.Rule] = []
        if info.affinity_timeout:
            aff = n.affinity_set(ident, ep.ip, ep.port, info.affinity_timeout)
            sets[aff] = {"type": "ipv4_addr", "flags": ["timeout"], "timeout": info.affinity_timeout}
            affinity_rules.append([j.in_set(j.SADDR, aff), j.goto(ep_chain)])
            ep_rules.append([j.update_set(j.SADDR, aff)])
        ep_rules.append([_PROTOCOL_MATCH[info.protocol], {"dnat": {"addr": ep.ip, "port": ep.port}}])
        chains[ep_chain] = ep_rules
        remaining = len(ready) - i
        choice_rules.append([_draw(remaining), j.goto(ep_chain)] if remaining > 1 else [j.goto(ep_chain)])
    chains[svc] = affinity_rules + choice_rules
    elements = {n.SERVICE_IPS: {vip_key: svc}}
    if info.node_port:
        ext = n.external_chain(ident)
        chains[ext] = [[j.jump(n.MARK_FOR_MASQUERADE)], [j.goto(svc)]]
        elements[n.SERVICE_NODEPORTS] = {nodeport_key: ext}
    return ServiceRules(chains=chains, sets=sets, elements=elements,
                        endpoint_ips=frozenset(ep.ip for ep in ready))


def render_state(state: ProxyState) -> dict[ServicePortName, ServiceRules]:
    return {name: render_service(name, info, state.endpoints.get(name, ()))
            for name, info in state.services.items()}


@contextlib.contextmanager
def _gc_paused():
    """Rendering 10,000 Services builds a million small dicts and lists, none of them cyclic;
    the cyclic collector's passes over them took two thirds of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def full_transaction(table: str, state: ProxyState) -> list[j.Command]:
    """Commands that replace the whole table with the one `state` describes, in one transaction."""
    with _gc_paused():
        return _full_transaction(table, state)


def _full_transaction(table: str, state: ProxyState) -> list[j.Command]:
    t = j.Table(table)
    rendered = render_state(state).values()
    cmds = t.recreate()
    cmds += [t.add_set(name, decl) for name, decl in SHARED_SETS.items()]
    cmds += [t.add_set(name, decl) for rules in rendered for name, decl in rules.sets.items()]
    cmds += [t.add_chain(name) for name in SHARED_CHAINS]
    cmds += [t.add_chain(c.name, type=c.type, hook=c.hook, prio=c.priority, policy="accept")
             for c in n.BASE_CHAINS]
    cmds += [t.add_chain(name) for rules in rendered for name in rules.chains]
    cmds += [t.add_rule(name, rule) for name, rules in SHARED_CHAINS.items() for rule in rules]
    cmds += [t.add_rule(c.name, [j.jump(c.jump_to)]) for c in n.BASE_CHAINS]
    cmds += [t.add_rule(chain, rule) for rules in rendered for chain, chain_rules in rules.chains.items()
             for rule in chain_rules]
    merged: Elements = {name: {} for name in SHARED_SETS}
    for rules in rendered:
        for set_name, elems in rules.elements.items():
            merged[set_name].update(elems)
    merged[n.NODE_IPS] = dict.fromkeys(state.node_ips)
    merged[n.HAIRPIN] = {(ip, ip): None for rules in rendered for ip in rules.endpoint_ips}
    cmds += [t.add_elements(set_name, [j.element(k, v) for k, v in elems.items()])
             for set_name, elems in merged.items() if elems]
    return cmds
