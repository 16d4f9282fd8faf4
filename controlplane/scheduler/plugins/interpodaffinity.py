"""InterPodAffinity: place a pod near pods it wants (affinity) and away from pods it
must avoid (anti-affinity), per topology domain (the nodes sharing a value of
the term's topologyKey label: one node for kubernetes.io/hostname, a zone for
topology.kubernetes.io/zone).

Required rules filter; they hold both ways for anti-affinity: a pod may not
land where a placed pod's required anti-affinity selects it. Preferred rules
(and, both ways, placed pods' preferred terms and required affinity) add or
subtract weight per domain, scaled to 0..100 between the worst and best node.
The first pod of a group whose affinity selects itself may go anywhere the
topology keys exist, so that a group can start.

Per-node counts of matching pods come from the cache (kept current as pods
come and go); a domain's count is the sum over its nodes (bincount).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from controlplane.scheduler.cache import PREFERRED_AFFINITY, PREFERRED_ANTI, REQUIRED_AFFINITY, REQUIRED_ANTI
from controlplane.scheduler.framework import (
    MAX_NODE_SCORE, SKIP, Action, EventInterest, FilterPlugin, PreFilterPlugin, PreScorePlugin, Rejection,
    Resource, ScorePlugin)
from controlplane.scheduler.nodetable import NodeTable
from controlplane.scheduler.podinfo import AffinityTerm, PodInfo

AFFINITY_REASON = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY_REASON = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY_REASON = "node(s) didn't satisfy existing pods anti-affinity rules"

# Weight of a placed pod's *required* affinity term when scoring the other way round.
HARD_AFFINITY_WEIGHT = 1


@dataclass
class _FilterState:
    existing_anti: dict[str, set[int]] = field(default_factory=dict)   # topology key -> codes to avoid


class InterPodAffinity(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin):
    name = "InterPodAffinity"

    def __init__(self, handle):
        self._cache = handle.cache

    # ------------------------------------------------------------------ filter

    def pre_filter(self, state, pod, nodes):
        if not (pod.required_affinity or pod.required_anti_affinity
                or self._cache.has_required_anti_affinity_pods()):
            return SKIP
        found = _FilterState()
        if self._cache.has_required_anti_affinity_pods():
            for owner, term, kind in self._cache.terms_matching(pod):
                if kind != REQUIRED_ANTI:
                    continue
                row = nodes.row_of.get(owner.node_name)
                if row is not None:
                    code = int(nodes.codes(term.topology_key)[row])
                    if code >= 0:
                        found.existing_anti.setdefault(term.topology_key, set()).add(code)
        state[self.name] = found
        return None

    def filter(self, state, pod, nodes):
        found: _FilterState = state[self.name]
        existing = np.zeros(nodes.size, bool)
        for key, codes in found.existing_anti.items():
            existing |= _rows_in(nodes.codes(key), codes, nodes.domain_count(key))
        anti = np.zeros(nodes.size, bool)
        for term in pod.required_anti_affinity:
            anti |= self._domain_counts(term, nodes) > 0
        affinity = ~self._affinity_rows(pod, nodes) if pod.required_affinity else np.zeros(nodes.size, bool)
        failed = existing | anti | affinity
        if not failed.any():
            return None
        # One reason per node, the first rule it breaks, in Kubernetes' order.
        anti &= ~affinity
        existing &= ~(affinity | anti)
        return Rejection(failed, [(affinity, AFFINITY_REASON), (anti, ANTI_AFFINITY_REASON),
                                  (existing, EXISTING_ANTI_AFFINITY_REASON)],
                         resolvable=~affinity)

    def _affinity_rows(self, pod: PodInfo, nodes: NodeTable) -> np.ndarray:
        ok = np.ones(nodes.size, bool)
        has_keys = np.ones(nodes.size, bool)
        anywhere = False
        for term in pod.required_affinity:
            counts = self._domain_counts(term, nodes)
            anywhere = anywhere or bool(counts.any())
            ok &= counts > 0
            has_keys &= nodes.codes(term.topology_key) >= 0
        if not anywhere and all(term.matches(pod) for term in pod.required_affinity):
            return has_keys   # the first of a group that selects itself
        return ok

    def _domain_counts(self, term: AffinityTerm, nodes: NodeTable) -> np.ndarray:
        """Per row: matching pods in the row's domain for the term's topology key (0 without the label)."""
        return in_domain(self._cache.match_counts(term.namespaces, term.selector), nodes.codes(term.topology_key),
                         nodes.domain_count(term.topology_key))

    # ------------------------------------------------------------------ score

    def pre_score(self, state, pod, nodes, rows):
        if not (pod.preferred_affinity or pod.preferred_anti_affinity or self._cache.has_affinity_term_pods()):
            return SKIP
        return None

    def score(self, state, pod, nodes, rows):
        total = np.zeros(nodes.size, np.int64)
        for terms, sign in ((pod.preferred_affinity, 1), (pod.preferred_anti_affinity, -1)):
            for term in terms:
                total += sign * term.weight * self._domain_counts(term, nodes)
        by_key: dict[str, dict[int, int]] = {}
        for owner, term, kind in self._cache.terms_matching(pod):
            weight = {REQUIRED_AFFINITY: HARD_AFFINITY_WEIGHT, PREFERRED_AFFINITY: term.weight,
                      PREFERRED_ANTI: -term.weight}.get(kind)
            row = nodes.row_of.get(owner.node_name)
            if weight is None or row is None:
                continue
            code = int(nodes.codes(term.topology_key)[row])
            if code >= 0:
                weights = by_key.setdefault(term.topology_key, {})
                weights[code] = weights.get(code, 0) + weight
        for key, weights in by_key.items():
            per_domain = np.zeros(nodes.domain_count(key) + 1, np.int64)   # last slot: nodes without the label
            for code, weight in weights.items():
                per_domain[code] = weight
            total += per_domain[nodes.codes(key)]
        return total[rows]

    def normalize(self, state, pod, scores):
        low, high = (scores.min(), scores.max()) if len(scores) else (0, 0)
        if high == low:
            return np.zeros(len(scores), np.int64)
        return (scores - low) * MAX_NODE_SCORE // (high - low)

    def events(self):
        return [EventInterest(Resource.ASSIGNED_POD, Action.ADD | Action.UPDATE_LABELS, hint=_may_attract,
                              only_if=lambda pod: bool(pod.required_affinity)),
                EventInterest(Resource.ASSIGNED_POD, Action.DELETE),
                EventInterest(Resource.NODE, Action.ADD | Action.UPDATE_LABELS)]


def in_domain(counts: np.ndarray, codes: np.ndarray, domains: int) -> np.ndarray:
    """Per row: the sum of `counts` over the rows of its domain (0 for rows without one)."""
    if domains == len(codes) and codes.min(initial=0) >= 0:
        return counts   # every row its own domain (hostname): nothing to add up
    labelled = codes >= 0
    per_domain = np.zeros(domains + 1, np.int64)
    per_domain[:domains] = np.bincount(codes[labelled], weights=counts[labelled], minlength=domains)[:domains]
    return per_domain[codes]


def _rows_in(codes: np.ndarray, wanted: set[int], domains: int) -> np.ndarray:
    """Per row: its domain code is one of `wanted` (rows without a code never are)."""
    lookup = np.zeros(domains + 1, bool)   # the extra last slot answers for code -1
    lookup[list(wanted)] = True
    return lookup[codes]


def _may_attract(pod: PodInfo, event) -> bool:
    """A newly placed pod helps only a pod whose required affinity selects it."""
    placed = event.new
    return placed is None or any(term.matches(placed) for term in pod.required_affinity)
