"""NodeResourcesFit: the pod's requests must fit in what the node has left; scoring
prefers the emptiest node (LeastAllocated, default) or the fullest (MostAllocated).

"Left" is allocatable minus the requests of the pods placed there, including
pods the scheduler has assumed while their binding is in flight, and pods of
at least this pod's priority nominated to the node by preemption (their room
is being made for them). Scoring counts containers without requests as
100m cpu / 200Mi memory, so that best-effort pods still spread.
"""
import numpy as np

from controlplane.scheduler.framework import (
    MAX_NODE_SCORE, Action, EventInterest, FilterPlugin, PreFilterPlugin, Rejection, Resource, ScorePlugin)

LEAST_ALLOCATED, MOST_ALLOCATED = "LeastAllocated", "MostAllocated"


class NodeResourcesFit(PreFilterPlugin, FilterPlugin, ScorePlugin):
    name = "NodeResourcesFit"

    def __init__(self, handle, *, scoring_strategy: str = LEAST_ALLOCATED, cpu_weight: int = 1,
                 memory_weight: int = 1):
        if scoring_strategy not in (LEAST_ALLOCATED, MOST_ALLOCATED):
            raise ValueError(f"NodeResourcesFit: scoringStrategy.type must be {LEAST_ALLOCATED} or "
                             f"{MOST_ALLOCATED}, not {scoring_strategy!r}")
        self._cache = handle.cache
        self._most = scoring_strategy == MOST_ALLOCATED
        self._weights = (cpu_weight, memory_weight)

    def pre_filter(self, state, pod, nodes):
        state[self.name] = self._cache.nominated_usage(pod)
        return None

    def filter(self, state, pod, nodes):
        extra = state.get(self.name)
        free_cpu = nodes.alloc_cpu - nodes.req_cpu
        free_memory = nodes.alloc_memory - nodes.req_memory
        free_pods = nodes.alloc_pods - nodes.req_pods
        if extra is not None:
            free_cpu, free_memory, free_pods = free_cpu - extra[0], free_memory - extra[1], free_pods - extra[2]
        short_pods = free_pods < 1
        failed = short_pods
        reasons = [(short_pods, "Too many pods")]
        if pod.milli_cpu:
            short_cpu = free_cpu < pod.milli_cpu
            failed = failed | short_cpu
            reasons.append((short_cpu, "Insufficient cpu"))
        if pod.memory:
            short_memory = free_memory < pod.memory
            failed = failed | short_memory
            reasons.append((short_memory, "Insufficient memory"))
        if not failed.any():
            return None
        return Rejection(failed, reasons, resolvable=True)

    def score(self, state, pod, nodes, rows):
        cpu = _share(nodes.nz_cpu[rows] + pod.nonzero_milli_cpu, nodes.alloc_cpu[rows], self._most)
        memory = _share(nodes.nz_memory[rows] + pod.nonzero_memory, nodes.alloc_memory[rows], self._most)
        w_cpu, w_memory = self._weights
        return (cpu * w_cpu + memory * w_memory) // (w_cpu + w_memory)

    def events(self):
        return [EventInterest(Resource.NODE, Action.ADD | Action.UPDATE_ALLOCATABLE),
                EventInterest(Resource.ASSIGNED_POD, Action.DELETE)]


def _share(requested: np.ndarray, allocatable: np.ndarray, most: bool) -> np.ndarray:
    """0..100 per node: the share used (most) or left (least) once the pod is added."""
    requested = np.minimum(requested, allocatable)
    used = requested * MAX_NODE_SCORE // np.maximum(allocatable, 1)
    return used if most else np.where(allocatable > 0, MAX_NODE_SCORE - used, 0)
