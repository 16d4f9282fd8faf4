"""TaintToleration: a node's NoSchedule and NoExecute taints repel pods that do not
tolerate them; untolerated PreferNoSchedule taints make a node less attractive.

Nodes share few distinct taint lists, so the table keeps them as groups and
toleration is decided once per group (and memoized per toleration list).
NoExecute tolerationSeconds matter only after a pod runs; the node lifecycle
controller reads them from the pod.
"""
import numpy as np

from controlplane.scheduler.framework import (
    Action, EventInterest, FilterPlugin, Rejection, Resource, ScorePlugin, normalize_by_max)

_REPELLING = ("NoSchedule", "NoExecute")


class TaintToleration(FilterPlugin, ScorePlugin):
    name = "TaintToleration"

    def filter(self, state, pod, nodes):
        untolerated = nodes.memo(("untolerated", pod.tolerations), lambda: _first_untolerated(pod, nodes))
        bad_groups = [g for g, taint in enumerate(untolerated) if taint is not None]
        if not bad_groups:
            return None
        group_failed = np.array([taint is not None for taint in untolerated] or [False])
        failed = group_failed[nodes.taint_group]
        if not failed.any():
            return None

        def reasons():
            by_text = {}
            for group in bad_groups:
                key, value, _ = untolerated[group]
                text = f"node(s) had untolerated taint {{{key}: {value}}}"
                rows = nodes.taint_group == group
                by_text[text] = by_text[text] | rows if text in by_text else rows
            return list((rows, text) for text, rows in by_text.items())
        return Rejection(failed, reasons)

    def score(self, state, pod, nodes, rows):
        counts = nodes.memo(("prefer-no-schedule", pod.tolerations), lambda: _intolerable_preferences(pod, nodes))
        return counts[nodes.taint_group[rows]]

    def normalize(self, state, pod, scores):
        return normalize_by_max(scores, reverse=True)

    def events(self):
        return [EventInterest(Resource.NODE, Action.ADD | Action.UPDATE_TAINTS)]


def _first_untolerated(pod, nodes):
    """Per taint group: the first NoSchedule/NoExecute taint the pod does not tolerate, or None."""
    out = []
    for taints in nodes.taint_groups:
        out.append(next((t for t in taints if t[2] in _REPELLING and not _tolerated(pod, t)), None))
    return out


def _intolerable_preferences(pod, nodes):
    return np.array([sum(1 for t in taints if t[2] == "PreferNoSchedule" and not _tolerated(pod, t))
                     for taints in nodes.taint_groups] or [0], np.int64)


def _tolerated(pod, taint) -> bool:
    key, value, effect = taint
    return any(t.tolerates(key, value, effect) for t in pod.tolerations)
