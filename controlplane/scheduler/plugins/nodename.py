"""NodeName: a pod that names its node (spec.nodeName) fits only there."""
import numpy as np

from controlplane.scheduler.framework import Action, EventInterest, FilterPlugin, Resource, rejection

REASON = "node(s) didn't match the requested node name"


class NodeName(FilterPlugin):
    name = "NodeName"

    def filter(self, state, pod, nodes):
        if not pod.node_name:
            return None
        failed = np.ones(nodes.size, bool)
        row = nodes.row_of.get(pod.node_name)
        if row is not None:
            failed[row] = False
        return rejection(failed, REASON)

    def events(self):
        return [EventInterest(Resource.NODE, Action.ADD)]
