"""Change tracking: the smallest transaction from one proxy state to the next.

Only Service ports whose info or endpoints differ are rendered again (both
their old and their new share of the table), and only the differences become
commands: map and set elements added or removed, per-service chains created,
flushed and refilled, or deleted, affinity sets created or deleted, and a pick
chain (re)created when a Service port is the first to need it. A replaced
endpoint is element changes alone; an endpoint more or fewer also rewrites
the one rule of its Service's chain.

Unchanged entries are normally the very same objects in both states (the
proxier builds a new state by replacing what changed), so a full scan is
mostly identity checks; told which names may have changed, it is not needed.

Also here: which UDP conntrack entries a change leaves pointing at the wrong
place (see conntrack.py for why that matters).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Iterable

from agent.proxy import names as n
from agent.proxy import nftjson as j
from agent.proxy.model import ProxyState, ServicePortInfo, ServicePortName
from agent.proxy.render import NO_RULES, Elements, ServiceRules, ready_sorted, render_service


def changed_names(old: ProxyState, new: ProxyState,
                  candidates: Iterable[ServicePortName] | None = None) -> list[ServicePortName]:
    """Service ports whose info or endpoints differ between the two states (endpoints of a
    name that is no Service port in either state program nothing, so they do not count).
    candidates: the only names that may differ, when the caller knows (the proxy's controller
    does: it replaces one object's share at a time); None: any, and all are compared."""
    if old.services is new.services and old.endpoints is new.endpoints:
        return []
    if candidates is None:
        changed = list(old.services.keys() - new.services.keys())
        candidates = new.services.keys()
    else:
        changed = []
    for name in candidates:
        was, now = old.services.get(name), new.services.get(name)
        if was is not now and was != now:
            changed.append(name)
            continue
        before, after = old.endpoints.get(name, ()), new.endpoints.get(name, ())
        if now is not None and before is not after and before != after:
            changed.append(name)
    return sorted(changed)


_ABSENT = object()


def _rules(state: ProxyState, name: ServicePortName) -> ServiceRules:
    info = state.services.get(name)
    return NO_RULES if info is None else render_service(name, info, state.endpoints.get(name, ()))


def diff_transaction(table: str, old: ProxyState, new: ProxyState,
                     changed: list[ServicePortName] | None = None) -> list[j.Command]:
    """Commands that turn the table rendered from `old` into the one rendered from `new`.

    Order matters inside the transaction: new sets and chains exist before rules
    and elements point at them; a chain or set is deleted only after every rule
    and element that referred to it is gone. `changed` saves recomputing changed_names().
    """
    t = j.Table(table)
    add_sets, del_sets = {}, []
    add_chains, refill, del_chains = [], {}, []
    ensure: dict[str, list[j.Rule]] = {}
    add_elems: Elements = {}
    del_elems: dict[str, list[Hashable]] = {}
    for name in changed_names(old, new) if changed is None else changed:
        before, after = _rules(old, name), _rules(new, name)
        add_sets.update((s, d) for s, d in after.sets.items() if before.sets.get(s) != d)
        del_sets += [s for s, d in before.sets.items() if after.sets.get(s) != d]
        for chain, rules in after.chains.items():
            if chain not in before.chains:
                add_chains.append(chain)
                refill[chain] = rules
            elif before.chains[chain] != rules:
                refill[chain] = rules
        del_chains += [c for c in before.chains if c not in after.chains]
        # a pick chain new to this Service port may be new to the table: (re)create it whole
        ensure.update((c, rules) for c, rules in after.pick_chains.items() if c not in before.pick_chains)
        for set_name in before.elements.keys() | after.elements.keys():
            was, now = before.elements.get(set_name, {}), after.elements.get(set_name, {})
            del_elems.setdefault(set_name, []).extend(k for k, v in was.items() if now.get(k, _ABSENT) != v)
            add_elems.setdefault(set_name, {}).update((k, v) for k, v in now.items() if was.get(k, _ABSENT) != v)

    del_elems[n.NODE_IPS] = sorted(old.node_ips - new.node_ips)
    add_elems[n.NODE_IPS] = dict.fromkeys(sorted(new.node_ips - old.node_ips))

    refill.update(ensure)
    cmds = [t.add_set(s, d) for s, d in add_sets.items()]
    cmds += [t.add_chain(c) for c in [*add_chains, *ensure]]
    cmds += [t.flush_chain(c) for c in refill if c not in add_chains]
    cmds += [t.flush_chain(c) for c in del_chains]
    cmds += [t.add_rule(c, rule) for c, rules in refill.items() for rule in rules]
    cmds += [t.delete_elements(s, [j.element_key(k) for k in keys]) for s, keys in del_elems.items() if keys]
    cmds += [t.add_elements(s, [j.element(k, v) for k, v in elems.items()])
             for s, elems in add_elems.items() if elems]
    cmds += [t.delete_chain(c) for c in del_chains]
    cmds += [t.delete_set(s) for s in del_sets]
    return cmds


@dataclass(frozen=True)
class StaleFlows:
    """UDP conntrack entries to delete: original destination (None: any) and port, reply source (None: any)."""

    orig_dst: str | None
    orig_dport: int
    reply_src: str | None


def stale_udp_flows(old: ProxyState, new: ProxyState,
                    changed: list[ServicePortName] | None = None) -> list[StaleFlows]:
    """UDP flows the change leaves stuck: conntrack keeps sending an established UDP "connection"
    to the endpoint chosen at its start, so when that endpoint goes the flow must be forgotten.
    A Service port that gains its first endpoint forgets flows to its address too: packets sent
    before it was programmed made entries that go nowhere."""
    stale = []
    for name in changed_names(old, new) if changed is None else changed:
        was, now = old.services.get(name), new.services.get(name)
        if was is not None and was.protocol == "udp":
            before = ready_sorted(old.endpoints.get(name, ()))
            after = {ep.ip for ep in ready_sorted(new.endpoints.get(name, ()))} if now == was else set()
            for ip in sorted({ep.ip for ep in before} - after):
                stale += [StaleFlows(dst, port, ip) for dst, port in _destinations(was)]
        if now is not None and now.protocol == "udp" and ready_sorted(new.endpoints.get(name, ())):
            if was != now or not ready_sorted(old.endpoints.get(name, ())):
                stale += [StaleFlows(dst, port, None) for dst, port in _destinations(now)]
    return stale


def _destinations(info: ServicePortInfo) -> list[tuple[str | None, int]]:
    """Where a Service port's flows are addressed: its VIP, any address at its node port, its load
    balancer addresses."""
    return [(info.cluster_ip, info.port), *([(None, info.node_port)] if info.node_port else []),
            *((ip, info.port) for ip in info.load_balancer_ips)]
