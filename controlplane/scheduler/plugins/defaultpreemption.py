"""DefaultPreemption: when a pod fits nowhere, evict lower-priority pods to make room.

Candidates are the nodes where only resolvable rules (resources, host ports,
anti-affinity, spread skew) said no. On each, the victims are found the way
Kubernetes does: take away every lower-priority pod; if the pod still does not
fit, the node is no help; otherwise give back the most important of them one
by one while the pod still fits. The best node has the least important
victims (lowest top priority, then lowest priority sum, then fewest pods,
then the most recently started). Before committing, the whole filter chain
is run with the victims removed, so only a node that will really fit is
nominated.

Victims are deleted gracefully, each with a Preempted event; the pod's
status.nominatedNodeName records the node, where its room is held for it
(the cache counts nominated pods against lower-priority ones) until the
victims are gone and it is scheduled again.
"""
from __future__ import annotations

import logging
import random

import numpy as np

from controlplane.client import errors
from controlplane.scheduler.framework import CycleState, PostFilterPlugin, PostFilterResult
from controlplane.scheduler.plugins.nodeports import conflicts
from controlplane.scheduler.podinfo import PodInfo

log = logging.getLogger(__name__)

NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
# How many verified-by-arithmetic candidates get the full filter check, best first.
_VERIFY = 5


class DefaultPreemption(PostFilterPlugin):
    name = "DefaultPreemption"

    def __init__(self, handle, *, min_candidate_nodes_percentage: int = 10, min_candidate_nodes_absolute: int = 100):
        self._handle = handle
        self._percentage = min_candidate_nodes_percentage
        self._absolute = min_candidate_nodes_absolute

    def post_filter(self, state, pod, nodes, diagnosis):
        if not pod.preempt_lower:
            return PostFilterResult(message="preemption: not eligible due to preemptionPolicy=Never.")
        cache = self._handle.cache
        if pod.nominated_node_name and any(p.terminating and p.priority < pod.priority
                                           for p in cache.pods_on(pod.nominated_node_name)):
            # Room is already being made on its nominated node: wait for it.
            return PostFilterResult(nominated_node=pod.nominated_node_name,
                                    message="preemption: victims on the nominated node are terminating.")
        n = nodes.size
        rows = np.flatnonzero(diagnosis.resolvable_rows) if diagnosis.resolvable_rows is not None else []
        wanted = max(self._absolute, n * self._percentage // 100)
        candidates = []
        offset = random.randrange(len(rows)) if len(rows) else 0
        for row in np.concatenate((rows[offset:], rows[:offset])) if len(rows) else []:
            victims = self._victims_on(pod, int(row))
            if victims:
                candidates.append((nodes.names[row], victims))
                if len(candidates) >= wanted:
                    break
        candidates.sort(key=_rank)
        for node, victims in candidates[:_VERIFY]:
            if self._fits_without(pod, node, victims):
                return PostFilterResult(nominated_node=node, action=lambda: self._evict(pod, node, victims))
        histogram = {NOT_HELPFUL: n - len(rows)}
        if len(rows):
            histogram[NO_VICTIMS] = len(rows)
        summary = ", ".join(sorted(f"{count} {reason}" for reason, count in histogram.items() if count))
        return PostFilterResult(message=f"preemption: 0/{n} nodes are available: {summary}.")

    def _victims_on(self, pod: PodInfo, row: int) -> list[PodInfo]:
        """The fewest, least important lower-priority pods whose eviction makes the pod fit on
        `row` by resources and host ports; [] if evicting cannot make it fit."""
        cache = self._handle.cache
        nodes = cache.nodes
        lower, keep = [], []
        for other in cache.pods_on(nodes.names[row]):
            (lower if other.priority < pod.priority and not cache.is_assumed(other.key) else keep).append(other)
        if not lower:
            return []
        room = _Room(int(nodes.alloc_cpu[row]), int(nodes.alloc_memory[row]), int(nodes.alloc_pods[row]), pod)
        for other in keep:
            room.add(other)
        if not room.fits():
            return []
        victims = []
        for other in sorted(lower, key=lambda p: (-p.priority, p.start_time)):
            room.add(other)
            if not room.fits():
                room.remove(other)
                victims.append(other)
        return victims

    def _fits_without(self, pod: PodInfo, node: str, victims: list[PodInfo]) -> bool:
        cache = self._handle.cache
        removed = [cache.remove_pod(v.key) for v in victims]
        try:
            row = cache.nodes.row_of[node]
            return row in set(self._handle.framework.feasible_rows(CycleState(), pod, cache.nodes).tolist())
        finally:
            for victim in removed:
                if victim is not None:
                    cache.set_pod(victim)

    async def _evict(self, pod: PodInfo, node: str, victims: list[PodInfo]) -> None:
        pods = self._handle.client.resource("Pod")
        for victim in victims:
            try:
                await pods.delete(victim.name, namespace=victim.namespace, uid=victim.uid)
            except errors.NotFound:
                continue
            except errors.ApiError as e:
                log.warning("preempting %s/%s: %s", victim.namespace, victim.name, e)
                continue
            self._handle.recorder.event(victim.pod, "Normal", "Preempted",
                                        f"Preempted by pod {pod.namespace}/{pod.name} on node {node}")
        for other in self._handle.cache.nominated():
            if other.nominated_node_name == node and other.priority < pod.priority:
                await self._handle.set_nominated_node(other, "")


class _Room:
    """What a node would hold: does `pod` fit next to the pods added so far?"""

    def __init__(self, cpu: int, memory: int, pods: int, pod: PodInfo):
        self._allocatable = (cpu, memory, pods)
        self._used = [pod.milli_cpu, pod.memory, 1]
        self._pod = pod
        self._ports: list = []

    def add(self, other: PodInfo) -> None:
        self._used = [self._used[0] + other.milli_cpu, self._used[1] + other.memory, self._used[2] + 1]
        self._ports.extend(other.host_ports)

    def remove(self, other: PodInfo) -> None:
        self._used = [self._used[0] - other.milli_cpu, self._used[1] - other.memory, self._used[2] - 1]
        for port in other.host_ports:
            self._ports.remove(port)

    def fits(self) -> bool:
        pod = self._pod
        cpu, memory, pods = self._allocatable
        return ((not pod.milli_cpu or self._used[0] <= cpu) and (not pod.memory or self._used[1] <= memory)
                and self._used[2] <= pods
                and not any(conflicts(w, t) for w in pod.host_ports for t in self._ports))


def _rank(candidate) -> tuple:
    _, victims = candidate
    top = max(v.priority for v in victims)
    newest_top = max(v.start_time for v in victims if v.priority == top)
    return top, sum(v.priority for v in victims), len(victims), -newest_top
