"""The scheduler's picture of the cluster: nodes, and the pods placed on them.

Placed pods are the bound ones the informer reports and the *assumed* ones:
a pod counts against its node from the moment the scheduler picks the node,
not when the binding comes back, so pods decided back to back never
over-commit a node while earlier binds are in flight. The informer's copy of
a bound pod confirms the assumption; a failed bind forgets it.

Besides the node table's columns the cache keeps the indexes the affinity
and spread rules need to stay cheap with thousands of pods: placed pods by
label, the affinity terms of placed pods by the labels they select, and
per-node counts of the pods a selector matches, updated as pods come and go.
"""
from __future__ import annotations

import dataclasses
from collections import Counter, OrderedDict
from typing import Iterator

import numpy as np
from google.protobuf.message import Message

from controlplane.api.selectors import Selector
from controlplane.scheduler.framework import Action
from controlplane.scheduler.nodetable import NodeTable
from controlplane.scheduler.podinfo import AffinityTerm, PodInfo

Key = tuple[str, str]
Namespaces = frozenset[str] | None   # None: all namespaces

# Affinity term kinds of placed pods, as TermIndex records them.
REQUIRED_AFFINITY, REQUIRED_ANTI, PREFERRED_AFFINITY, PREFERRED_ANTI = range(4)

_MATCH_COUNT_ENTRIES = 256


def index_requirement(selector: Selector):
    """A requirement every match must have a label for (=, in), to look matches up by; or None."""
    for requirement in selector.requirements:
        if requirement.operator in ("=", "in"):
            return requirement
    return None


class Cache:
    def __init__(self):
        self.nodes = NodeTable()
        self._pods: dict[Key, PodInfo] = {}
        self._assumed: set[Key] = set()
        self._by_node: dict[str, dict[Key, PodInfo]] = {}
        self._ports: dict[str, Counter] = {}
        self._nominated: dict[Key, PodInfo] = {}
        self._labels = _PodLabelIndex()
        self._terms = _TermIndex()
        self._counts = _MatchCounts(self)

    # ------------------------------------------------------------------ nodes

    def set_node(self, node: Message) -> Action | None:
        """Add or update a node; returns what changed (for requeueing), None if nothing that matters."""
        name = node.metadata.name
        row = self.nodes.row_of.get(name)
        if row is None:
            row = self.nodes.set_node(node)
            for pod in self._by_node.get(name, {}).values():
                self._count_usage(pod, row, 1)
            self._counts.reset()
            return Action.ADD
        old = self.nodes.nodes[row]
        self.nodes.set_node(node)
        return _node_changes(old, node)

    def remove_node(self, name: str) -> None:
        if name in self.nodes.row_of:
            self.nodes.remove_node(name)
            self._counts.reset()

    # ------------------------------------------------------------------ pods

    def assume(self, pod: PodInfo, node: str) -> PodInfo:
        """Count `pod` on `node` now, ahead of its binding; returns the placed copy."""
        placed = dataclasses.replace(pod, node_name=node)
        self._place(placed)
        self._assumed.add(pod.key)
        return placed

    def forget(self, key: Key) -> None:
        """Undo assume() after a failed bind."""
        if key in self._assumed:
            self._assumed.discard(key)
            self._unplace(key)

    def is_assumed(self, key: Key) -> bool:
        return key in self._assumed

    def set_pod(self, pod: PodInfo) -> None:
        """A bound pod as the informer reports it: confirms an assumption, or adds/updates it."""
        self._assumed.discard(pod.key)
        self._unplace(pod.key)
        self._place(pod)

    def confirm(self, pod: Message) -> bool:
        """The informer reports an assumed pod bound where it was assumed: keep the assumed
        copy (now with the bound message) instead of parsing and indexing the pod again.
        False if `pod` is not such a pod."""
        placed = self._pods.get((pod.metadata.namespace, pod.metadata.name))
        if (placed is None or placed.key not in self._assumed or placed.uid != pod.metadata.uid
                or placed.node_name != pod.spec.node_name or placed.labels != pod.metadata.labels):
            return False
        self._assumed.discard(placed.key)
        placed.pod = pod
        return True

    def remove_pod(self, key: Key) -> PodInfo | None:
        self._assumed.discard(key)
        return self._unplace(key)

    def placed(self, key: Key) -> PodInfo | None:
        return self._pods.get(key)

    def pods_on(self, node: str) -> list[PodInfo]:
        return list(self._by_node.get(node, {}).values())

    def pod_count(self) -> int:
        return len(self._pods)

    def host_ports_in_use(self) -> dict[str, Counter]:
        return self._ports

    # ------------------------------------------------------------------ nominations

    def set_nominated(self, pod: PodInfo) -> None:
        """Record (or with no nominated node, clear) where preemption is making room for `pod`."""
        if pod.nominated_node_name and not pod.node_name:
            self._nominated[pod.key] = pod
        else:
            self._nominated.pop(pod.key, None)

    def clear_nominated(self, key: Key) -> None:
        self._nominated.pop(key, None)

    def nominated(self) -> list[PodInfo]:
        return list(self._nominated.values())

    def nominated_usage(self, pod: PodInfo):
        """(cpu, memory, pods) arrays per row of pods nominated to nodes with at least `pod`'s
        priority (room being made for them); None when there are none."""
        others = [p for p in self._nominated.values() if p.key != pod.key and p.priority >= pod.priority
                  and p.nominated_node_name in self.nodes.row_of]
        if not others:
            return None
        n = self.nodes.size
        cpu, memory, pods = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
        for other in others:
            row = self.nodes.row_of[other.nominated_node_name]
            cpu[row] += other.milli_cpu
            memory[row] += other.memory
            pods[row] += 1
        return cpu, memory, pods

    # ------------------------------------------------------------------ matching

    def matching_pods(self, namespaces: Namespaces, selector: Selector | None) -> Iterator[PodInfo]:
        """Placed pods in `namespaces` whose labels `selector` matches."""
        return self._labels.matching(self._pods, namespaces, selector)

    def match_counts(self, namespaces: Namespaces, selector: Selector | None) -> np.ndarray:
        """int64 per node row: how many placed pods there `selector` matches (do not modify)."""
        return self._counts.get(namespaces, selector)

    def terms_matching(self, pod: PodInfo) -> Iterator[tuple[PodInfo, AffinityTerm, int]]:
        """Affinity terms of placed pods that select `pod`: (owner, term, kind)."""
        for owner_key, term, kind in self._terms.candidates(pod.labels):
            if term.matches(pod):
                owner = self._pods.get(owner_key)
                if owner is not None:
                    yield owner, term, kind

    def has_required_anti_affinity_pods(self) -> bool:
        return self._terms.required_anti > 0

    def has_affinity_term_pods(self) -> bool:
        return bool(self._terms.owners)

    # ------------------------------------------------------------------ internals

    def _place(self, pod: PodInfo) -> None:
        self._pods[pod.key] = pod
        self._by_node.setdefault(pod.node_name, {})[pod.key] = pod
        row = self.nodes.row_of.get(pod.node_name)
        if row is not None:
            self._count_usage(pod, row, 1)
        if pod.host_ports:
            self._ports.setdefault(pod.node_name, Counter()).update(pod.host_ports)
        self._labels.add(pod)
        self._terms.add(pod)
        self._counts.pod_changed(pod, 1)

    def _unplace(self, key: Key) -> PodInfo | None:
        pod = self._pods.pop(key, None)
        if pod is None:
            return None
        on_node = self._by_node.get(pod.node_name)
        if on_node is not None:
            on_node.pop(key, None)
            if not on_node:
                del self._by_node[pod.node_name]
        row = self.nodes.row_of.get(pod.node_name)
        if row is not None:
            self._count_usage(pod, row, -1)
        if pod.host_ports:
            ports = self._ports[pod.node_name]
            ports.subtract(pod.host_ports)
            if not +ports:
                del self._ports[pod.node_name]
        self._labels.remove(pod)
        self._terms.remove(pod)
        self._counts.pod_changed(pod, -1)
        return pod

    def _count_usage(self, pod: PodInfo, row: int, sign: int) -> None:
        self.nodes.add_usage(row, cpu=pod.milli_cpu, memory=pod.memory, nz_cpu=pod.nonzero_milli_cpu,
                             nz_memory=pod.nonzero_memory, sign=sign)


def _node_changes(old: Message, new: Message) -> Action | None:
    changed = Action(0)
    if dict(old.metadata.labels) != dict(new.metadata.labels):
        changed |= Action.UPDATE_LABELS
    if list(old.spec.taints) != list(new.spec.taints):
        changed |= Action.UPDATE_TAINTS
    if old.spec.unschedulable != new.spec.unschedulable:
        changed |= Action.UPDATE_UNSCHEDULABLE
    if (dict(old.status.allocatable) != dict(new.status.allocatable)
            or dict(old.status.capacity) != dict(new.status.capacity)):
        changed |= Action.UPDATE_ALLOCATABLE
    return changed or None


class _PodLabelIndex:
    """Placed pods by namespace and by (label, value)."""

    def __init__(self):
        self._by_label: dict[tuple[str, str], set[Key]] = {}
        self._by_namespace: dict[str, set[Key]] = {}

    def add(self, pod: PodInfo) -> None:
        self._by_namespace.setdefault(pod.namespace, set()).add(pod.key)
        for item in pod.labels.items():
            self._by_label.setdefault(item, set()).add(pod.key)

    def remove(self, pod: PodInfo) -> None:
        _discard(self._by_namespace, pod.namespace, pod.key)
        for item in pod.labels.items():
            _discard(self._by_label, item, pod.key)

    def matching(self, pods: dict[Key, PodInfo], namespaces: Namespaces,
                 selector: Selector | None) -> Iterator[PodInfo]:
        if selector is None:
            return
        requirement = index_requirement(selector)
        if requirement is not None:
            keys = set().union(*(self._by_label.get((requirement.key, v), ()) for v in requirement.values))
        elif namespaces is not None:
            keys = set().union(*(self._by_namespace.get(ns, ()) for ns in namespaces))
        else:
            keys = pods.keys()
        for key in keys:
            pod = pods[key]
            if (namespaces is None or pod.namespace in namespaces) and selector.matches(pod.labels):
                yield pod


class _TermIndex:
    """The affinity terms of placed pods, looked up by the labels they select."""

    def __init__(self):
        self._by_label: dict[tuple[str, str], list] = {}
        self._unindexed: list = []
        self.owners: dict[Key, list] = {}   # owner -> its entries, for removal
        self.required_anti = 0

    def add(self, pod: PodInfo) -> None:
        if not pod.has_affinity_terms:
            return
        entries = []
        for kind, terms in ((REQUIRED_AFFINITY, pod.required_affinity), (REQUIRED_ANTI, pod.required_anti_affinity),
                            (PREFERRED_AFFINITY, pod.preferred_affinity),
                            (PREFERRED_ANTI, pod.preferred_anti_affinity)):
            for term in terms:
                if term.selector is None:
                    continue
                entry = (pod.key, term, kind)
                requirement = index_requirement(term.selector)
                slots = ([self._by_label.setdefault((requirement.key, v), []) for v in requirement.values]
                         if requirement is not None else [self._unindexed])
                for slot in slots:
                    slot.append(entry)
                entries.append((entry, slots))
                self.required_anti += kind == REQUIRED_ANTI
        if entries:
            self.owners[pod.key] = entries

    def remove(self, pod: PodInfo) -> None:
        for entry, slots in self.owners.pop(pod.key, ()):
            for slot in slots:
                slot.remove(entry)
            self.required_anti -= entry[2] == REQUIRED_ANTI
        for item in pod.labels.items():
            if item in self._by_label and not self._by_label[item]:
                del self._by_label[item]

    def candidates(self, labels: dict[str, str]):
        for item in labels.items():
            yield from self._by_label.get(item, ())
        yield from self._unindexed


class _MatchCounts:
    """Per selector: how many placed pods it matches on each node row, kept current.

    Spread constraints and affinity terms ask this of the same few selectors
    (one per workload) for every pod; recounting would cost as many steps as
    there are matching pods. Entries are kept for the most recently used
    selectors and updated as pods are placed and removed.
    """

    def __init__(self, cache: Cache):
        self._cache = cache
        self._entries: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._by_label: dict[tuple[str, str], set[tuple]] = {}
        self._unindexed: set[tuple] = set()

    def reset(self) -> None:
        """Rows moved: drop everything."""
        self._entries.clear()
        self._by_label.clear()
        self._unindexed.clear()

    def get(self, namespaces: Namespaces, selector: Selector | None) -> np.ndarray:
        key = (namespaces, selector)
        counts = self._entries.get(key)
        if counts is not None:
            self._entries.move_to_end(key)
            return counts
        nodes = self._cache.nodes
        counts = np.zeros(nodes.size, np.int64)
        for pod in self._cache.matching_pods(namespaces, selector):
            row = nodes.row_of.get(pod.node_name)
            if row is not None:
                counts[row] += 1
        if selector is None:
            return counts
        self._entries[key] = counts
        requirement = index_requirement(selector)
        if requirement is None:
            self._unindexed.add(key)
        else:
            for value in requirement.values:
                self._by_label.setdefault((requirement.key, value), set()).add(key)
        if len(self._entries) > _MATCH_COUNT_ENTRIES:
            self._evict(next(iter(self._entries)))
        return counts

    def pod_changed(self, pod: PodInfo, sign: int) -> None:
        if not self._entries:
            return
        row = self._cache.nodes.row_of.get(pod.node_name)
        if row is None:
            return
        keys = set(self._unindexed)
        for item in pod.labels.items():
            keys.update(self._by_label.get(item, ()))
        for key in keys:
            namespaces, selector = key
            if (namespaces is None or pod.namespace in namespaces) and selector.matches(pod.labels):
                self._entries[key][row] += sign

    def _evict(self, key: tuple) -> None:
        del self._entries[key]
        self._unindexed.discard(key)
        requirement = index_requirement(key[1])
        if requirement is not None:
            for value in requirement.values:
                _discard(self._by_label, (requirement.key, value), key)


def _discard(index: dict, slot, item) -> None:
    members = index.get(slot)
    if members is not None:
        members.discard(item)
        if not members:
            del index[slot]
