"""NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory would be used in
equal shares once the pod is added, so neither runs out while the other idles."""
import numpy as np

from controlplane.scheduler.framework import MAX_NODE_SCORE, ScorePlugin


class BalancedAllocation(ScorePlugin):
    name = "NodeResourcesBalancedAllocation"

    def score(self, state, pod, nodes, rows):
        cpu = _fraction(nodes.req_cpu[rows] + pod.milli_cpu, nodes.alloc_cpu[rows])
        memory = _fraction(nodes.req_memory[rows] + pod.memory, nodes.alloc_memory[rows])
        # The standard deviation of two shares is half their distance.
        deviation = np.abs(cpu - memory) / 2
        return ((1 - deviation) * MAX_NODE_SCORE).astype(np.int64)


def _fraction(requested, allocatable):
    return np.minimum(requested / np.maximum(allocatable, 1), 1.0)
