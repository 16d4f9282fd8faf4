"""NodeUnschedulable: cordoned nodes (spec.unschedulable) take no new pods.

A pod that tolerates the node.kubernetes.io/unschedulable:NoSchedule taint
(DaemonSet pods do) is let through, as in Kubernetes.
"""
from controlplane.scheduler.framework import Action, EventInterest, FilterPlugin, Resource, rejection

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
REASON = "node(s) were unschedulable"


class NodeUnschedulable(FilterPlugin):
    name = "NodeUnschedulable"

    def filter(self, state, pod, nodes):
        if any(t.tolerates(UNSCHEDULABLE_TAINT, "", "NoSchedule") for t in pod.tolerations):
            return None
        return rejection(nodes.unschedulable, REASON)

    def events(self):
        return [EventInterest(Resource.NODE, Action.ADD | Action.UPDATE_UNSCHEDULABLE)]
