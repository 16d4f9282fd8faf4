"""What the scheduler needs to know about a pod, worked out once per pod version.

A Pod message is read by every plugin on every scheduling attempt, and the
pods already placed are read again for every pod that comes after them
(affinity, spread). Parsing quantities, selectors and affinity terms each
time would dominate the cost of a decision, so `PodInfo` does it once when
the informer hands the scheduler a new version of the pod.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from google.protobuf.message import Message

from controlplane.api import podresources, quantity, selectors
from controlplane.api.selectors import Selector

# Requests assumed for a container that states none, when scoring how full a
# node is (Kubernetes' non-zero requests): otherwise a node full of
# best-effort pods would look empty to the scorers. Filtering uses the real
# requests.
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 1024 * 1024

ALL_NAMESPACES = None  # AffinityTerm.namespaces value: every namespace


@dataclass(frozen=True, slots=True)
class Toleration:
    key: str
    operator: str      # Exists, Equal
    value: str
    effect: str        # "" tolerates every effect

    def tolerates(self, key: str, value: str, effect: str) -> bool:
        if self.effect and self.effect != effect:
            return False
        if self.key and self.key != key:
            return False
        return self.operator == "Exists" or self.value == value


@dataclass(frozen=True, slots=True)
class AffinityTerm:
    """A pod (anti-)affinity term: pods matching `selector` in `namespaces`, per `topology_key` domain."""
    namespaces: frozenset[str] | None   # None: every namespace
    selector: Selector | None           # None: an unset selector, which matches no pod
    topology_key: str
    weight: int = 1                      # for preferred terms

    def matches(self, pod: "PodInfo") -> bool:
        return (self.selector is not None
                and (self.namespaces is None or pod.namespace in self.namespaces)
                and self.selector.matches(pod.labels))


@dataclass(frozen=True, slots=True)
class SpreadConstraint:
    max_skew: int
    topology_key: str
    hard: bool                 # whenUnsatisfiable: DoNotSchedule
    selector: Selector | None  # matchLabelKeys already folded in; None matches no pod
    min_domains: int


@dataclass(frozen=True, slots=True)
class NodeSelectorRequirement:
    key: str
    operator: str              # In, NotIn, Exists, DoesNotExist, Gt, Lt
    values: tuple[str, ...]


# A node selector term: all requirements hold (matchExpressions, then matchFields on metadata.name).
NodeSelectorTerm = tuple[tuple[NodeSelectorRequirement, ...], tuple[NodeSelectorRequirement, ...]]


@dataclass(slots=True, eq=False)
class PodInfo:
    pod: Message
    key: tuple[str, str]
    uid: str
    namespace: str
    labels: dict[str, str]
    priority: int
    preempt_lower: bool                  # preemptionPolicy PreemptLowerPriority
    milli_cpu: int
    memory: int
    nonzero_milli_cpu: int
    nonzero_memory: int
    tolerations: tuple[Toleration, ...]
    node_selector: tuple[tuple[str, str], ...]
    required_node_terms: tuple[NodeSelectorTerm, ...] | None   # None: no required node affinity
    preferred_node_terms: tuple[tuple[int, NodeSelectorTerm], ...]
    required_affinity: tuple[AffinityTerm, ...]
    required_anti_affinity: tuple[AffinityTerm, ...]
    preferred_affinity: tuple[AffinityTerm, ...]
    preferred_anti_affinity: tuple[AffinityTerm, ...]
    spread_constraints: tuple[SpreadConstraint, ...]
    host_ports: tuple[tuple[str, str, int], ...]   # (hostIP, protocol, port)
    node_name: str
    nominated_node_name: str
    terminating: bool
    start_time: float

    @property
    def name(self) -> str:
        return self.key[1]

    @property
    def has_affinity_terms(self) -> bool:
        return bool(self.required_affinity or self.required_anti_affinity
                    or self.preferred_affinity or self.preferred_anti_affinity)


NamespaceResolver = Callable[[Selector], frozenset[str] | None]


def pod_info(pod: Message, *, priority: int, namespaces_matching: NamespaceResolver | None = None) -> PodInfo:
    """Parse `pod`. `namespaces_matching(selector)` resolves affinity namespaceSelectors.

    Raises ValueError (a SelectorError or QuantityError) for a spec the API
    server should have refused.
    """
    spec, meta = pod.spec, pod.metadata
    cpu, memory, nz_cpu, nz_memory = _requests(spec)
    affinity = spec.affinity
    ns = meta.namespace

    def terms(messages, weighted: bool) -> tuple[AffinityTerm, ...]:
        out = []
        for message in messages:
            term, weight = (message.pod_affinity_term, message.weight) if weighted else (message, 1)
            out.append(_affinity_term(term, ns, weight, namespaces_matching))
        return tuple(out)

    pod_affinity, anti = affinity.pod_affinity, affinity.pod_anti_affinity
    node_affinity = affinity.node_affinity
    required = None
    if node_affinity.HasField("required_during_scheduling_ignored_during_execution"):
        required = tuple(node_term(t) for t in
                         node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms)
    return PodInfo(
        pod=pod, key=(ns, meta.name), uid=meta.uid, namespace=ns, labels=dict(meta.labels),
        priority=priority, preempt_lower=spec.preemption_policy != "Never",
        milli_cpu=cpu, memory=memory, nonzero_milli_cpu=nz_cpu, nonzero_memory=nz_memory,
        tolerations=tuple(Toleration(t.key, t.operator or "Equal", t.value, t.effect) for t in spec.tolerations),
        node_selector=tuple(sorted(spec.node_selector.items())),
        required_node_terms=required,
        preferred_node_terms=tuple((p.weight, node_term(p.preference)) for p in
                                   node_affinity.preferred_during_scheduling_ignored_during_execution),
        required_affinity=terms(pod_affinity.required_during_scheduling_ignored_during_execution, False),
        required_anti_affinity=terms(anti.required_during_scheduling_ignored_during_execution, False),
        preferred_affinity=terms(pod_affinity.preferred_during_scheduling_ignored_during_execution, True),
        preferred_anti_affinity=terms(anti.preferred_during_scheduling_ignored_during_execution, True),
        spread_constraints=tuple(_spread(c, meta.labels) for c in spec.topology_spread_constraints),
        host_ports=tuple((p.host_ip or "0.0.0.0", p.protocol or "TCP", p.host_port)
                         for c in spec.containers for p in c.ports if p.host_port),
        node_name=spec.node_name, nominated_node_name=pod.status.nominated_node_name,
        terminating=meta.HasField("deletion_timestamp"),
        start_time=meta.creation_timestamp.seconds + meta.creation_timestamp.nanos / 1e9,
    )


def _requests(spec) -> tuple[int, int, int, int]:
    """Effective cpu and memory requests (plain, then with the scorer's defaults for unset ones), as
    Kubernetes counts them (podresources.pod_total)."""
    return podresources.pod_total(spec, _with_defaults, add=_plus, larger=_larger, zero=(0, 0, 0, 0))


def _with_defaults(container) -> tuple[int, int, int, int]:
    c, m = _container_requests(container)
    return c, m, c or DEFAULT_MILLI_CPU, m or DEFAULT_MEMORY


def _plus(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x + y for x, y in zip(a, b))


def _larger(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(map(max, a, b))


def _container_requests(container) -> tuple[int, int]:
    requests = container.resources.requests
    cpu = _millicores(requests["cpu"]) if "cpu" in requests else 0
    memory = _bytes(requests["memory"]) if "memory" in requests else 0
    return cpu, memory


# The replicas of a workload repeat the same few quantity strings; parsing is exact and slow.
_millicores = functools.lru_cache(maxsize=1024)(quantity.millicores)
_bytes = functools.lru_cache(maxsize=1024)(quantity.to_int)


def _selector(message_owner, field: str) -> Selector | None:
    return selectors.from_label_selector(getattr(message_owner, field)) if message_owner.HasField(field) else None


def _affinity_term(term, namespace: str, weight: int, namespaces_matching: NamespaceResolver | None) -> AffinityTerm:
    names: frozenset[str] | None = frozenset(term.namespaces)
    if term.HasField("namespace_selector"):
        chosen = selectors.from_label_selector(term.namespace_selector)
        if chosen.empty:
            names = ALL_NAMESPACES
        elif namespaces_matching is not None:
            matching = namespaces_matching(chosen)
            names = None if matching is None else names | matching
    elif not names:
        names = frozenset((namespace,))
    return AffinityTerm(names, _selector(term, "label_selector"), term.topology_key, weight)


def node_term(term) -> NodeSelectorTerm:
    """A NodeSelectorTerm message as the hashable tuple the node-affinity masks are memoized by."""
    def requirements(items):
        return tuple(NodeSelectorRequirement(r.key, r.operator, tuple(r.values)) for r in items)
    return requirements(term.match_expressions), requirements(term.match_fields)


def _spread(constraint, labels) -> SpreadConstraint:
    selector = _selector(constraint, "label_selector")
    if selector is not None and constraint.match_label_keys:
        extra = [selectors.Requirement(k, "=", (labels[k],)) for k in constraint.match_label_keys if k in labels]
        selector = Selector((*selector.requirements, *extra))
    return SpreadConstraint(
        max_skew=constraint.max_skew or 1, topology_key=constraint.topology_key,
        hard=constraint.when_unsatisfiable != "ScheduleAnyway", selector=selector,
        min_domains=constraint.min_domains if constraint.HasField("min_domains") else 1)
