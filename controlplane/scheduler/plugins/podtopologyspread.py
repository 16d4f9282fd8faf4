"""PodTopologySpread: keep the pods a constraint selects evenly spread over the
domains of its topologyKey.

For each constraint, count the selected pods (in the pod's namespace) per
domain, over the nodes that the pod's node selector and required node
affinity allow and that carry the key. Placing the pod in a domain must not
make that domain exceed the least-loaded one by more than maxSkew
(DoNotSchedule: Filter); with fewer than minDomains domains the least-loaded
count is taken as 0. ScheduleAnyway constraints only score: the fewer
selected pods already in a node's domain, the better, each constraint
weighted by log(number of domains + 2) so constraints over many small
domains count more than those over few large ones.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from controlplane.scheduler.framework import (
    MAX_NODE_SCORE, SKIP, Action, EventInterest, FilterPlugin, PreFilterPlugin, PreScorePlugin, Rejection,
    Resource, ScorePlugin)
from controlplane.scheduler.nodetable import NodeTable
from controlplane.scheduler.plugins.nodeaffinity import required_rows
from controlplane.scheduler.podinfo import PodInfo, SpreadConstraint

REASON = "node(s) didn't match pod topology spread constraints"
MISSING_LABEL_REASON = "node(s) didn't match pod topology spread constraints (missing required label)"


@dataclass
class _Counted:
    constraint: SpreadConstraint
    codes: np.ndarray        # per row: domain code, -1 without the key
    per_domain: np.ndarray   # selected pods per domain code; one extra trailing slot for -1
    domains: int             # domains among eligible nodes
    smallest: int            # the least-loaded eligible domain's count
    self_match: int          # 1 if the pod is selected by its own constraint


class PodTopologySpread(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin):
    name = "PodTopologySpread"

    def __init__(self, handle):
        self._cache = handle.cache

    def pre_filter(self, state, pod, nodes):
        hard = [c for c in pod.spread_constraints if c.hard]
        if not hard:
            return SKIP
        state[self.name] = self._count(pod, hard, nodes)
        return None

    def filter(self, state, pod, nodes):
        missing = np.zeros(nodes.size, bool)
        skewed = np.zeros(nodes.size, bool)
        for counted in state[self.name]:
            missing |= counted.codes < 0
            after = counted.per_domain[counted.codes] + counted.self_match
            skewed |= after - counted.smallest > counted.constraint.max_skew
        skewed &= ~missing
        failed = missing | skewed
        if not failed.any():
            return None
        return Rejection(failed, [(missing, MISSING_LABEL_REASON), (skewed, REASON)], resolvable=skewed)

    def pre_score(self, state, pod, nodes, rows):
        soft = [c for c in pod.spread_constraints if not c.hard]
        if not soft:
            return SKIP
        state[self.name + "/score"] = self._count(pod, soft, nodes)
        return None

    def score(self, state, pod, nodes, rows):
        counted_all = state[self.name + "/score"]
        total = np.zeros(len(rows), float)
        ignored = np.zeros(len(rows), bool)
        for counted in counted_all:
            codes = counted.codes[rows]
            ignored |= codes < 0
            domains = len(np.unique(codes[codes >= 0]))
            weight = math.log(domains + 2)
            total += counted.per_domain[codes] * weight + (counted.constraint.max_skew - 1)
        scores = np.rint(total).astype(np.int64)
        scores[ignored] = -1
        return scores

    def normalize(self, state, pod, scores):
        """Fewest selected pods best: MAX * (max + min - s) / max; nodes without the keys get 0."""
        counted = scores >= 0
        if not counted.any():
            return np.zeros(len(scores), np.int64)
        low, high = scores[counted].min(), scores[counted].max()
        if high == 0:
            return np.where(counted, MAX_NODE_SCORE, 0)
        return np.where(counted, MAX_NODE_SCORE * (high + low - scores) // high, 0)

    def events(self):
        return [EventInterest(Resource.ASSIGNED_POD, Action.ALL),
                EventInterest(Resource.NODE, Action.ADD | Action.UPDATE_LABELS | Action.DELETE)]

    def _count(self, pod: PodInfo, constraints: list[SpreadConstraint], nodes: NodeTable) -> list[_Counted]:
        eligible = required_rows(pod, nodes).copy()
        for constraint in constraints:
            eligible &= nodes.codes(constraint.topology_key) >= 0
        namespace = frozenset((pod.namespace,))
        out = []
        for constraint in constraints:
            codes = nodes.codes(constraint.topology_key)
            size = nodes.domain_count(constraint.topology_key)
            counts = self._cache.match_counts(namespace, constraint.selector)
            per_domain = np.zeros(size + 1, np.int64)
            per_domain[:size] = np.bincount(codes[eligible], weights=counts[eligible], minlength=size)[:size]
            present = np.zeros(size + 1, bool)
            present[codes[eligible]] = True
            domains = int(np.count_nonzero(present))
            smallest = int(per_domain[present].min()) if domains else 0
            if domains < constraint.min_domains:
                smallest = 0
            self_match = int(constraint.selector is not None and constraint.selector.matches(pod.labels))
            out.append(_Counted(constraint, codes, per_domain, domains, smallest, self_match))
        return out
