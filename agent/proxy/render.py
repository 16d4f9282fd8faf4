"""The renderer: proxy state in, nft commands (JSON-shaped, nftjson.py) out. Pure: no kernel,
no clock, no I/O.

Two levels, so the change tracker can reuse the second:
- `full_transaction(table, state)`: every command that rebuilds the table from
  nothing, atomically (the table is replaced in the same transaction).
- `render_service(name, info, endpoints)`: one Service port's share of the
  table (its chains with their rules, its affinity sets, its elements in the
  shared maps and sets), as data the change tracker can compare.

A Service port's endpoints are elements of one map, `service-endpoints` (VIP .
protocol . port . slot : endpoint address . port, one slot per ready
endpoint), and its chain jumps to a chain shared by every Service port with
the same protocol and number of endpoints, which picks and DNATs in one rule:
`pick-tcp-3: dnat ip to ip daddr . meta l4proto . th dport . numgen random mod
3 map @service-endpoints`. Why: the kernel re-checks the whole table (every
chain reachable from a hook, through every verdict map element) whenever a
transaction adds a rule that DNATs or jumps, which at 10,000 Services costs
20 ms with a rule per endpoint; a transaction that only changes elements of a
data map skips the check. So replacing an endpoint is a few element changes;
only a change in the number of endpoints rewrites the one rule of the
Service's chain. Why shared pick chains rather than the lookup in every
Service's chain: each rule that looks a map up is a binding the kernel checks
every new element against, so 10,000 lookups made a full sync quadratic (5 s).
Measured on the 2-core VM; see README.md.

A NodePort reaches the same endpoints through its own map, keyed by protocol
and node port, because its packets carry the node's address, not the VIP. A
load balancer address is keyed like a VIP (address . protocol . port) in the
same maps, through a chain of its own. Both external paths masquerade under
externalTrafficPolicy Cluster; under Local they keep the client's address and
use only this node's endpoints (slots of their own), dropping without one.

Session affinity needs to know which endpoint a connection got, to remember
it: a Service port with affinity keeps one rule per endpoint instead (sticky
lookups first, then a cascade of `numgen random mod k` draws for k = n..2 and
the last endpoint, which picks uniformly, each recording the client in that
endpoint's timeout set).
The tidier anonymous `numgen ... vmap { ... }` per service is out: the kernel
names each anonymous set by scanning every set in the table, 45 s for 10,000.
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
    n.HAIRPIN: {"type": ["ipv4_addr", "ipv4_addr", "ipv4_addr", "inet_proto", "inet_service"]},
    # Declared by the expressions they are looked up with (the key ends in a numgen number, which
    # has no type name); the numgen modulus here is only part of the declaration, any would do.
    n.SERVICE_ENDPOINTS: {"typeof": j.concat(j.DADDR, j.L4PROTO, j.DPORT, j.numgen_random(2)),
                          "map": j.concat(j.DADDR, j.DPORT)},
    n.NODEPORT_ENDPOINTS: {"typeof": j.concat(j.L4PROTO, j.DPORT, j.numgen_random(2)),
                           "map": j.concat(j.DADDR, j.DPORT)},
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
        # directly and drop the reply as unknown. A set lookup instead of a rule per endpoint,
        # keyed by the Service port too (conntrack's original destination), so each Service
        # port's elements are its own and a change never asks who else has an endpoint's address.
        # One rule per protocol: nft types the original port only after a protocol match.
        *([j.match(j.L4PROTO, protocol),
           j.in_set(j.concat(j.SADDR, j.DADDR, j.CT_ORIGINAL_DADDR, j.L4PROTO, j.CT_ORIGINAL_DPORT), n.HAIRPIN),
           {"masquerade": None}] for protocol in PROTOCOLS),
    ],
}

# set/map name -> key -> value: a target chain (verdict maps), endpoint address and port (endpoint
# maps), None (sets)
Elements = dict[str, dict[Hashable, str | tuple[str, int] | None]]


@dataclass(frozen=True)
class ServiceRules:
    """One Service port's share of the table."""

    chains: dict[str, list[j.Rule]] = field(default_factory=dict)
    sets: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-endpoint affinity sets
    elements: Elements = field(default_factory=dict)  # in the shared sets and maps
    # pick chains it uses: shared with every Service port with as many endpoints; created when a
    # Service port first needs one, left in place when none does any more (a full resync drops it)
    pick_chains: dict[str, list[j.Rule]] = field(default_factory=dict)


NO_RULES = ServiceRules()


# Sub-expressions every service shares, built once (rendering 10,000 services is mostly dict building).
_PROTOCOL_MATCH = {protocol: j.match(j.L4PROTO, protocol) for protocol in PROTOCOLS}


@functools.cache
def _draw(k: int) -> j.Expr:
    """True with probability 1/k."""
    return j.match(j.numgen_random(k), 0)


@functools.cache
def _pick_chain(protocol: str, endpoints: int, *, nodeport: bool) -> tuple[str, list[j.Rule]]:
    """The pick chain and its one rule: DNAT to slot `numgen random mod endpoints` of the packet's
    Service port in its endpoint map, found by VIP . protocol . port, or by protocol . node port
    for NodePort traffic."""
    key, map_name = ((j.L4PROTO, j.DPORT), n.NODEPORT_ENDPOINTS) if nodeport else \
        ((j.DADDR, j.L4PROTO, j.DPORT), n.SERVICE_ENDPOINTS)
    return n.pick_chain(protocol, endpoints, nodeport=nodeport), [
        [_PROTOCOL_MATCH[protocol], j.dnat_map(j.concat(*key, j.numgen_random(endpoints)), map_name)]]


def _slots(service_key: tuple, ready: tuple[Endpoint, ...]) -> dict[Hashable, tuple[str, int]]:
    """Endpoint map elements: the Service's key and a slot number, 0..n-1, to each ready endpoint."""
    return {(*service_key, slot): (ep.ip, ep.port) for slot, ep in enumerate(ready)}


def _one_rule_per_endpoint(ident: str, info: ServicePortInfo,
                           ready: tuple[Endpoint, ...]) -> tuple[dict[str, list[j.Rule]], dict[str, dict[str, Any]]]:
    """The service chain of a Service port with session affinity: first a rule per endpoint that
    sends a client it remembers back there, then the random draw that remembers it."""
    sets: dict[str, dict[str, Any]] = {}
    sticky_rules: list[j.Rule] = []
    choice_rules: list[j.Rule] = []
    for i, ep in enumerate(ready):
        dnat = [_PROTOCOL_MATCH[info.protocol], j.dnat(ep.ip, ep.port)]
        aff = n.affinity_set(ident, ep.ip, ep.port, info.affinity_timeout)
        sets[aff] = {"type": "ipv4_addr", "flags": ["timeout"], "timeout": info.affinity_timeout}
        sticky_rules.append([j.in_set(j.SADDR, aff), *dnat])
        remaining = len(ready) - i
        draw = [_draw(remaining)] if remaining > 1 else []
        choice_rules.append([*draw, j.update_set(j.SADDR, aff), *dnat])
    return {n.service_chain(ident): sticky_rules + choice_rules}, sets


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
    lb_keys = [(ip, info.protocol, info.port) for ip in info.load_balancer_ips]
    ready = ready_sorted(endpoints)
    if not ready:
        elements: Elements = {n.NO_ENDPOINT_SERVICES: dict.fromkeys([vip_key, *lb_keys])}
        if info.node_port:
            elements[n.NO_ENDPOINT_NODEPORTS] = {nodeport_key: None}
        return ServiceRules(elements=elements)

    svc = n.service_chain(ident)
    elements = {n.SERVICE_IPS: {vip_key: svc},
                n.HAIRPIN: {(ep.ip, ep.ip, *key): None for ep in ready for key in (vip_key, *lb_keys)}}
    rules = ServiceRules(elements=elements)
    if info.affinity_timeout:
        chains, sets = _one_rule_per_endpoint(ident, info, ready)
        rules.chains.update(chains)
        rules.sets.update(sets)
    else:
        rules.chains[svc] = [_pick(rules, info, len(ready))]
        elements[n.SERVICE_ENDPOINTS] = _slots(vip_key, ready)
    if info.node_port or lb_keys:
        _external(rules, ident, info, ready, lb_keys)
    return rules


def _pick(rules: ServiceRules, info: ServicePortInfo, endpoints: int, *, nodeport: bool = False) -> j.Rule:
    """The rule that goes to the pick chain for `endpoints` endpoints, which the Service port now uses."""
    pick, rules.pick_chains[pick] = _pick_chain(info.protocol, endpoints, nodeport=nodeport)
    return [j.goto(pick)]


def _external(rules: ServiceRules, ident: str, info: ServicePortInfo, ready: tuple[Endpoint, ...],
              lb_keys: list[tuple]) -> None:
    """The paths from outside: a node port (`ext-` chain) and the load balancer addresses (`lb-`
    chain, found in service-ips by address . protocol . port like the VIP, so its endpoint slots
    sit in service-endpoints under that key). With externalTrafficPolicy Cluster the traffic is
    marked for masquerade (replies must come back through this node) and may go to any endpoint;
    with Local it keeps the client's address and goes only to this node's endpoints, and is
    dropped when there are none here, as kube-proxy does (a load balancer's health check then
    sends it to another node)."""
    targets = tuple(ep for ep in ready if ep.local) if info.external_local else ready
    head = [] if info.external_local else [[j.jump(n.MARK_FOR_MASQUERADE)]]
    if not targets:
        nodeport_tail = lb_tail = [[j.DROP]]
    elif info.affinity_timeout:
        chain = n.service_chain(ident)
        if info.external_local:  # a chain, and affinity sets, of its own for the local endpoints
            chains, sets = _one_rule_per_endpoint(f"{ident}/local", info, targets)
            rules.chains.update(chains)
            rules.sets.update(sets)
            [chain] = chains
        nodeport_tail = lb_tail = [[j.goto(chain)]]
    else:
        nodeport_tail = [_pick(rules, info, len(targets), nodeport=True)]
        lb_tail = [_pick(rules, info, len(targets))]
        if info.node_port:
            rules.elements[n.NODEPORT_ENDPOINTS] = _slots((info.protocol, info.node_port), targets)
        for key in lb_keys:
            rules.elements.setdefault(n.SERVICE_ENDPOINTS, {}).update(_slots(key, targets))
    if info.node_port:
        ext = n.external_chain(ident)
        rules.chains[ext] = head + nodeport_tail
        rules.elements[n.SERVICE_NODEPORTS] = {(info.protocol, info.node_port): ext}
    if lb_keys:
        lb = n.load_balancer_chain(ident)
        rules.chains[lb] = head + lb_tail
        rules.elements[n.SERVICE_IPS].update(dict.fromkeys(lb_keys, lb))


def render_state(state: ProxyState) -> dict[ServicePortName, ServiceRules]:
    return {name: render_service(name, info, state.endpoints.get(name, ()))
            for name, info in state.services.items()}


@contextlib.contextmanager
def gc_paused():
    """The cyclic garbage collector paused: rendering (and encoding) 10,000 Services builds
    hundreds of thousands of small objects, none of them cyclic, and the collector's passes over
    them took two thirds of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def full_transaction(table: str, state: ProxyState) -> list[j.Command]:
    """Commands that replace the whole table with the one `state` describes, in one transaction."""
    with gc_paused():
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
    picks = {name: pick_rules for rules in rendered for name, pick_rules in rules.pick_chains.items()}
    cmds += [t.add_chain(name) for name in picks]
    cmds += [t.add_chain(name) for rules in rendered for name in rules.chains]
    cmds += [t.add_rule(name, rule) for name, rules in SHARED_CHAINS.items() for rule in rules]
    cmds += [t.add_rule(c.name, [j.jump(c.jump_to)]) for c in n.BASE_CHAINS]
    cmds += [t.add_rule(name, rule) for name, pick_rules in picks.items() for rule in pick_rules]
    cmds += [t.add_rule(chain, rule) for rules in rendered for chain, chain_rules in rules.chains.items()
             for rule in chain_rules]
    merged: Elements = {name: {} for name in SHARED_SETS}
    for rules in rendered:
        for set_name, elems in rules.elements.items():
            merged[set_name].update(elems)
    merged[n.NODE_IPS] = dict.fromkeys(state.node_ips)
    cmds += [t.add_elements(set_name, [j.element(k, v) for k, v in elems.items()])
             for set_name, elems in merged.items() if elems]
    return cmds
