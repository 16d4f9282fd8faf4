"""NodePorts: a pod's hostPorts must be free on the node (same protocol and port,
and the same host IP or either one the wildcard 0.0.0.0)."""
import numpy as np

from controlplane.scheduler.framework import (
    Action, EventInterest, FilterPlugin, Resource, rejection)

REASON = "node(s) didn't have free ports for the requested pod ports"
WILDCARD = "0.0.0.0"


class NodePorts(FilterPlugin):
    name = "NodePorts"

    def __init__(self, handle):
        self._cache = handle.cache

    def filter(self, state, pod, nodes):
        if not pod.host_ports:
            return None
        failed = np.zeros(nodes.size, bool)
        for node, used in self._cache.host_ports_in_use().items():
            row = nodes.row_of.get(node)
            if row is not None and any(conflicts(wanted, taken) for wanted in pod.host_ports for taken in used):
                failed[row] = True
        return rejection(failed, REASON, resolvable=True)

    def events(self):
        return [EventInterest(Resource.NODE, Action.ADD),
                EventInterest(Resource.ASSIGNED_POD, Action.DELETE)]


def conflicts(a: tuple[str, str, int], b: tuple[str, str, int]) -> bool:
    (ip_a, protocol_a, port_a), (ip_b, protocol_b, port_b) = a, b
    return port_a == port_b and protocol_a == protocol_b and (ip_a == ip_b or WILDCARD in (ip_a, ip_b))
