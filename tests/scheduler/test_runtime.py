"""The framework runtime: how many nodes are scored, rotation of the sample, weights, ties."""
from collections import Counter

import numpy as np

from controlplane.scheduler.framework import CycleState, ScorePlugin
from controlplane.scheduler.runtime import Framework, nodes_to_score
from tests.scheduler.builders import Cluster, info, node, pod


def test_nodes_to_score_follows_kubernetes():
    assert nodes_to_score(50) == 50                   # small clusters: all
    assert nodes_to_score(500) == 500 * 46 // 100     # 50% - 500/125
    assert nodes_to_score(5000) == 500                # 10%
    assert nodes_to_score(100_000) == 5000            # floor of 5%
    assert nodes_to_score(150) == 100                 # 49% of 150 is below the floor of 100
    assert nodes_to_score(5000, percentage=100) == 5000
    assert nodes_to_score(1000, percentage=1) == 100  # never fewer than 100


def test_the_sample_rotates_over_the_cluster():
    cluster = Cluster([node(f"n{i:04}") for i in range(1000)])
    framework = cluster.framework
    rows = [framework._sample(np.arange(1000), 1000) for _ in range(3)]
    assert [len(r) for r in rows] == [420] * 3          # 50% - 1000/125 = 42%
    assert rows[1][0] == rows[0][-1] + 1 and rows[2][0] == (rows[1][-1] + 1) % 1000


class _Fixed(ScorePlugin):
    def __init__(self, name, scores):
        self.name, self._scores = name, scores

    def score(self, state, pod, nodes, rows):
        return np.array([self._scores[nodes.names[r]] for r in rows], np.int64)


def _framework(cluster, plugins, weights):
    base = [p for p in cluster.framework.plugins if p.name in ("PrioritySort", "DefaultBinder")]
    return Framework(scheduler_name="test", plugins=base + plugins, score_weights=weights)


def test_weights_decide_between_plugins():
    cluster = Cluster([node("a"), node("b")])
    prefers_a = _Fixed("A", {"a": 100, "b": 0})
    prefers_b = _Fixed("B", {"a": 0, "b": 60})
    heavy_b = _framework(cluster, [prefers_a, prefers_b], {"A": 1, "B": 2})
    assert heavy_b.find_node(CycleState(), info(pod("p")), cluster.cache.nodes).node == "b"
    heavy_a = _framework(cluster, [prefers_a, prefers_b], {"A": 1, "B": 1})
    assert heavy_a.find_node(CycleState(), info(pod("p")), cluster.cache.nodes).node == "a"


def test_ties_are_broken_at_random():
    cluster = Cluster([node(f"n{i}") for i in range(4)])
    flat = _framework(cluster, [_Fixed("Flat", {f"n{i}": 50 for i in range(4)})], {"Flat": 1})
    chosen = Counter(flat.find_node(CycleState(), info(pod("p")), cluster.cache.nodes).node for _ in range(200))
    assert set(chosen) == {"n0", "n1", "n2", "n3"}
