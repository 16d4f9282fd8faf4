"""The plugins by name, and the default profile: which run, in what order, with what weights.

A profile's configuration (config.py) may disable defaults, enable others,
change score weights and pass arguments; everything else is this table.
Filter order matters only for which reason a FailedScheduling message gives
a node (the first plugin to reject it); cheap, common rules go first.
"""
from controlplane.scheduler.plugins.balancedallocation import BalancedAllocation
from controlplane.scheduler.plugins.defaultbinder import DefaultBinder
from controlplane.scheduler.plugins.defaultpreemption import DefaultPreemption
from controlplane.scheduler.plugins.interpodaffinity import InterPodAffinity
from controlplane.scheduler.plugins.nodeaffinity import NodeAffinity
from controlplane.scheduler.plugins.nodename import NodeName
from controlplane.scheduler.plugins.nodeports import NodePorts
from controlplane.scheduler.plugins.noderesources import NodeResourcesFit
from controlplane.scheduler.plugins.nodeunschedulable import NodeUnschedulable
from controlplane.scheduler.plugins.podtopologyspread import PodTopologySpread
from controlplane.scheduler.plugins.prioritysort import PrioritySort
from controlplane.scheduler.plugins.tainttoleration import TaintToleration
from controlplane.scheduler.plugins.volumebinding import VolumeBinding

# name -> factory(handle, **args). Plugins without state ignore the handle.
PLUGINS = {
    "PrioritySort": lambda handle: PrioritySort(),
    "NodeUnschedulable": lambda handle: NodeUnschedulable(),
    "NodeName": lambda handle: NodeName(),
    "TaintToleration": lambda handle: TaintToleration(),
    "NodeAffinity": lambda handle: NodeAffinity(),
    "NodePorts": NodePorts,
    "NodeResourcesFit": NodeResourcesFit,
    "PodTopologySpread": PodTopologySpread,
    "InterPodAffinity": InterPodAffinity,
    "NodeResourcesBalancedAllocation": lambda handle: BalancedAllocation(),
    "DefaultPreemption": DefaultPreemption,
    "VolumeBinding": VolumeBinding,
    "DefaultBinder": DefaultBinder,
}


def default_plugins() -> list[tuple[str, int]]:
    """(name, score weight) in run order; the weights are Kubernetes' defaults."""
    return [
        ("PrioritySort", 0),
        ("NodeUnschedulable", 0),
        ("NodeName", 0),
        ("TaintToleration", 3),
        ("NodeAffinity", 2),
        ("NodePorts", 0),
        ("VolumeBinding", 0),
        ("NodeResourcesFit", 1),
        ("PodTopologySpread", 2),
        ("InterPodAffinity", 2),
        ("NodeResourcesBalancedAllocation", 1),
        ("DefaultPreemption", 0),
        ("DefaultBinder", 0),
    ]
