"""NodeAffinity: spec.nodeSelector and spec.affinity.nodeAffinity.

Required: every nodeSelector label must match, and at least one of the
required terms (all of a term's expressions: In, NotIn, Exists,
DoesNotExist, Gt, Lt on labels; In/NotIn on metadata.name in matchFields).
Preferred: each matching term adds its weight; scores are scaled to 0..100.
Masks are memoized on the node table, so the replicas of one workload work
them out once.
"""
import numpy as np

from controlplane.scheduler.framework import (
    Action, EventInterest, FilterPlugin, PreScorePlugin, Resource, ScorePlugin, SKIP, normalize_by_max,
    rejection)
from controlplane.scheduler.nodetable import NodeTable
from controlplane.scheduler.podinfo import NodeSelectorRequirement, NodeSelectorTerm, PodInfo

REASON = "node(s) didn't match Pod's node affinity/selector"


class NodeAffinity(FilterPlugin, PreScorePlugin, ScorePlugin):
    name = "NodeAffinity"

    def filter(self, state, pod, nodes):
        if not pod.node_selector and pod.required_node_terms is None:
            return None
        return rejection(~required_rows(pod, nodes), REASON)

    def pre_score(self, state, pod, nodes, rows):
        return None if pod.preferred_node_terms else SKIP

    def score(self, state, pod, nodes, rows):
        total = np.zeros(nodes.size, np.int64)
        for weight, term in pod.preferred_node_terms:
            total += weight * term_rows(term, nodes)
        return total[rows]

    def normalize(self, state, pod, scores):
        return normalize_by_max(scores)

    def events(self):
        return [EventInterest(Resource.NODE, Action.ADD | Action.UPDATE_LABELS)]


def required_rows(pod: PodInfo, nodes: NodeTable) -> np.ndarray:
    """bool per row: the node satisfies the pod's nodeSelector and required node affinity.

    The result is shared (memoized): do not modify it.
    """
    key = ("node-affinity", pod.node_selector, pod.required_node_terms)

    def build():
        ok = np.ones(nodes.size, bool)
        for label, value in pod.node_selector:
            ok &= nodes.codes(label) == nodes.code_of(label, value)
        if pod.required_node_terms is not None:
            any_term = np.zeros(nodes.size, bool)
            for term in pod.required_node_terms:
                any_term |= term_rows(term, nodes)
            ok &= any_term
        return ok
    return nodes.memo(key, build)


def term_rows(term: NodeSelectorTerm, nodes: NodeTable) -> np.ndarray:
    """bool per row: every requirement of the term holds. A term with none matches no node."""
    expressions, fields = term

    def build():
        if not expressions and not fields:
            return np.zeros(nodes.size, bool)
        ok = np.ones(nodes.size, bool)
        for requirement in expressions:
            ok &= _label_rows(requirement, nodes)
        for requirement in fields:
            ok &= _name_rows(requirement, nodes)
        return ok
    return nodes.memo(("node-term", term), build)


def _label_rows(requirement: NodeSelectorRequirement, nodes: NodeTable) -> np.ndarray:
    key, operator, values = requirement.key, requirement.operator, requirement.values
    codes = nodes.codes(key)
    if operator in ("In", "NotIn"):
        matched = np.zeros(nodes.size, bool)
        for value in values:
            matched |= codes == nodes.code_of(key, value)
        return matched if operator == "In" else ~matched
    if operator == "Exists":
        return codes >= 0
    if operator == "DoesNotExist":
        return codes < 0
    if operator in ("Gt", "Lt"):
        try:
            bound = int(values[0])
        except (IndexError, ValueError):
            return np.zeros(nodes.size, bool)
        numbers = nodes.numbers(key)
        with np.errstate(invalid="ignore"):
            return numbers > bound if operator == "Gt" else numbers < bound
    return np.zeros(nodes.size, bool)


def _name_rows(requirement: NodeSelectorRequirement, nodes: NodeTable) -> np.ndarray:
    """matchFields: only metadata.name, with In or NotIn, as in Kubernetes."""
    matched = np.zeros(nodes.size, bool)
    if requirement.key != "metadata.name" or requirement.operator not in ("In", "NotIn"):
        return matched
    for name in requirement.values:
        row = nodes.row_of.get(name)
        if row is not None:
            matched[row] = True
    return matched if requirement.operator == "In" else ~matched
