"""One profile's plugins, run in extension-point order to pick a node for a pod.

`Framework.find_node` is the scheduling algorithm (Kubernetes' schedulePod):
pre-filter, filter every row at once, take a sample of the feasible rows,
score the sample with weights, pick the best (ties at random). It is
synchronous and touches only the in-memory cache, so a decision never waits
for the network; reserving and binding come after, in the scheduler.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import numpy as np

from controlplane.scheduler.framework import (
    BindPlugin, Code, CycleState, Diagnosis, EventInterest, FilterPlugin, Plugin,
    PostFilterPlugin, PreFilterPlugin, PreScorePlugin, QueueSortPlugin, ReservePlugin, ScorePlugin, Status)
from controlplane.scheduler.nodetable import NodeTable
from controlplane.scheduler.podinfo import PodInfo

log = logging.getLogger(__name__)

# Below this many nodes every feasible node is scored; above, an adaptive share (Kubernetes').
MIN_FEASIBLE_NODES = 100
MIN_FEASIBLE_PERCENTAGE = 5


def nodes_to_score(total: int, percentage: int = 0) -> int:
    """How many feasible nodes to score out of `total`: all below 100, else a share that
    shrinks from 50% as the cluster grows, to no less than 5% and 100 nodes.
    `percentage` > 0 fixes the share."""
    if total < MIN_FEASIBLE_NODES:
        return total
    if percentage <= 0:
        percentage = max(50 - total // 125, MIN_FEASIBLE_PERCENTAGE)
    return max(total * min(percentage, 100) // 100, MIN_FEASIBLE_NODES)


@dataclass
class Decision:
    """find_node's answer: a node, or a Diagnosis of why there is none."""
    node: str = ""
    diagnosis: Diagnosis | None = None
    feasible: int = 0    # feasible nodes seen
    scored: int = 0      # of which scored


class Framework:
    """The plugins of one scheduler profile, by extension point."""

    def __init__(self, *, scheduler_name: str, plugins: list[Plugin], score_weights: dict[str, int],
                 percentage_of_nodes_to_score: int = 0, rng: random.Random | None = None):
        self.scheduler_name = scheduler_name
        self.plugins = plugins
        self.queue_sort = _only(plugins, QueueSortPlugin)
        self.pre_filters = [p for p in plugins if isinstance(p, PreFilterPlugin)]
        self.filters = [p for p in plugins if isinstance(p, FilterPlugin)]
        self.post_filters = [p for p in plugins if isinstance(p, PostFilterPlugin)]
        self.pre_scores = [p for p in plugins if isinstance(p, PreScorePlugin)]
        self.scores = [(p, score_weights.get(p.name, 1)) for p in plugins if isinstance(p, ScorePlugin)
                       and score_weights.get(p.name, 1) > 0]
        self.reserves = [p for p in plugins if isinstance(p, ReservePlugin)]
        self.binders = [p for p in plugins if isinstance(p, BindPlugin)]
        if not self.binders:
            raise ValueError(f"profile {scheduler_name}: no bind plugin")
        self.percentage = percentage_of_nodes_to_score
        self._next_start = 0
        self._rng = rng or random.Random()

    def event_interests(self) -> dict[str, list[EventInterest]]:
        return {p.name: p.events() for p in self.plugins}

    # ---------------------------------------------------------------- the algorithm

    def find_node(self, state: CycleState, pod: PodInfo, nodes: NodeTable, *, prefer: str = "") -> Decision:
        """The node for `pod`; `prefer` (the node preemption nominated) wins whenever it is feasible."""
        n = nodes.size
        if n == 0:
            return Decision(diagnosis=Diagnosis(0))
        failed, rejections, refusal = self._filter(state, pod, nodes)
        if refusal is not None:
            plugin, status = refusal
            return Decision(diagnosis=Diagnosis(
                n, reasons={status.reason: n}, unschedulable_plugins={plugin.name},
                resolvable_rows=np.full(n, status.code == Code.UNSCHEDULABLE),
                pre_filter_message=f"{n} {status.reason}" if status.reason else ""))
        feasible = np.flatnonzero(~failed)
        if len(feasible) == 0:
            return Decision(diagnosis=self._diagnose(n, rejections))
        preferred = nodes.row_of.get(prefer, -1) if prefer else -1
        if preferred >= 0 and not failed[preferred]:
            return Decision(node=prefer, feasible=len(feasible), scored=0)
        rows = self._sample(feasible, n)
        if len(rows) == 1:
            return Decision(node=nodes.names[rows[0]], feasible=len(feasible), scored=1)
        scores = self._score(state, pod, nodes, rows)
        best = np.flatnonzero(scores == scores.max())
        row = rows[best[self._rng.randrange(len(best))]] if len(best) > 1 else rows[best[0]]
        return Decision(node=nodes.names[row], feasible=len(feasible), scored=len(rows))

    def feasible_rows(self, state: CycleState, pod: PodInfo, nodes: NodeTable) -> np.ndarray:
        """Pre-filter and filter only: the rows that could run the pod (for preemption's checks)."""
        failed, _, refusal = self._filter(state, pod, nodes)
        return np.zeros(0, np.int64) if refusal is not None else np.flatnonzero(~failed)

    def _filter(self, state: CycleState, pod: PodInfo, nodes: NodeTable):
        """(failed rows, [(plugin, Rejection)], None) or, when a pre-filter refuses the pod,
        (None, None, (plugin, status))."""
        skipped: set[str] = set()
        for plugin in self.pre_filters:
            status = plugin.pre_filter(state, pod, nodes)
            if status is None or status.code == Code.SUCCESS:
                continue
            if status.code == Code.SKIP:
                skipped.add(plugin.name)
            elif status.rejected:
                return None, None, (plugin, status)
            else:
                raise RuntimeError(f"{plugin.name} pre-filter: {status.reason}")
        failed = np.zeros(nodes.size, bool)
        rejections = []
        for plugin in self.filters:
            if plugin.name in skipped:
                continue
            rejected = plugin.filter(state, pod, nodes)
            if rejected is not None:
                rejections.append((plugin, rejected))
                failed |= rejected.failed
        return failed, rejections, None

    def _sample(self, feasible: np.ndarray, n: int) -> np.ndarray:
        """The first `nodes_to_score` feasible rows from a start that moves on every attempt,
        so that samples rotate over the cluster."""
        wanted = nodes_to_score(n, self.percentage)
        start = self._next_start % n
        split = np.searchsorted(feasible, start)
        ordered = np.concatenate((feasible[split:], feasible[:split]))
        if len(ordered) <= wanted:
            return ordered   # every node was looked at: the start stays
        ordered = ordered[:wanted]
        self._next_start = int(ordered[-1]) + 1
        return ordered

    def _score(self, state: CycleState, pod: PodInfo, nodes: NodeTable, rows: np.ndarray) -> np.ndarray:
        skipped = set()
        for plugin in self.pre_scores:
            status = plugin.pre_score(state, pod, nodes, rows)
            if status is not None and status.code == Code.SKIP:
                skipped.add(plugin.name)
        total = np.zeros(len(rows), np.int64)
        for plugin, weight in self.scores:
            if plugin.name in skipped:
                continue
            scores = plugin.normalize(state, pod, plugin.score(state, pod, nodes, rows))
            total += weight * scores
        return total

    def _diagnose(self, n: int, rejections) -> Diagnosis:
        """Reasons per node from the first plugin that rejected it, as Kubernetes reports them."""
        diagnosis = Diagnosis(n)
        decided = np.zeros(n, bool)
        unresolvable = np.zeros(n, bool)
        for plugin, rejected in rejections:
            fresh = rejected.failed & ~decided
            if not fresh.any():
                continue
            diagnosis.unschedulable_plugins.add(plugin.name)
            for rows, reason in rejected.reason_list():
                count = int(np.count_nonzero(rows & fresh))
                if count:
                    diagnosis.reasons[reason] = diagnosis.reasons.get(reason, 0) + count
            if rejected.resolvable is not True:
                unresolvable |= rejected.failed & ~np.asarray(rejected.resolvable)
            decided |= rejected.failed
        diagnosis.resolvable_rows = ~unresolvable
        return diagnosis

    # ---------------------------------------------------------------- after a decision

    def reserve(self, state: CycleState, pod: PodInfo, node: str) -> Status | None:
        for i, plugin in enumerate(self.reserves):
            status = plugin.reserve(state, pod, node)
            if status is not None and status.code != Code.SUCCESS:
                for done in reversed(self.reserves[:i + 1]):
                    done.unreserve(state, pod, node)
                return Status(status.code, status.reason, plugin.name)
        return None

    def unreserve(self, state: CycleState, pod: PodInfo, node: str) -> None:
        for plugin in reversed(self.reserves):
            plugin.unreserve(state, pod, node)

    async def bind(self, state: CycleState, pod: PodInfo, node: str) -> Status | None:
        for plugin in self.binders:
            status = await plugin.bind(state, pod, node)
            if status is not None and status.code == Code.SKIP:
                continue
            return status
        return Status(Code.ERROR, "no bind plugin bound the pod")


def _only(plugins: list[Plugin], kind: type) -> QueueSortPlugin:
    found = [p for p in plugins if isinstance(p, kind)]
    if len(found) != 1:
        raise ValueError(f"exactly one {kind.__name__} is needed, got {[p.name for p in found]}")
    return found[0]
