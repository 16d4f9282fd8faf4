"""Nodes, pods and a framework over an in-memory cache, for the scheduler's unit tests."""
import itertools
import random

from controlplane.api.kinds import KINDS
from controlplane.scheduler.cache import Cache
from controlplane.scheduler.framework import CycleState
from controlplane.scheduler.plugins.registry import PLUGINS, default_plugins
from controlplane.scheduler.podinfo import pod_info
from controlplane.scheduler.runtime import Framework

_uids = itertools.count(1)


def node(name: str, *, cpu: str = "4", memory: str = "8Gi", pods: str = "110", labels: dict | None = None,
         taints: list[dict] | None = None, unschedulable: bool = False):
    labels = {"kubernetes.io/hostname": name, **(labels or {})}
    return KINDS["Node"].new(
        metadata={"name": name, "labels": labels, "uid": f"node-{name}"},
        spec={"taints": taints or [], "unschedulable": unschedulable},
        status={"allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
                "capacity": {"cpu": cpu, "memory": memory, "pods": pods}})


def pod(name: str, *, namespace: str = "default", cpu: str = "", memory: str = "", labels: dict | None = None,
        node_name: str = "", priority: int | None = None, ports: list[dict] | None = None, **spec):
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    container = {"name": "main", "image": "busybox", "resources": {"requests": requests}, "ports": ports or []}
    if priority is not None:
        spec["priority"] = priority
    return KINDS["Pod"].new(
        metadata={"name": name, "namespace": namespace, "labels": labels or {}, "uid": f"uid-{next(_uids)}"},
        spec={"node_name": node_name, "scheduler_name": "default-scheduler", "containers": [container], **spec})


def info(message, *, priority: int | None = None):
    value = priority if priority is not None else (message.spec.priority if message.spec.HasField("priority") else 0)
    return pod_info(message, priority=value)


class _Handle:
    def __init__(self, cache):
        self.cache = cache
        self.client = None
        self.recorder = None
        self.framework = None


class Cluster:
    """A cache and the default framework over it, with nothing but memory behind them."""

    def __init__(self, nodes=(), *, plugins=None, args=None, seed: int = 1, percentage: int = 0):
        self.cache = Cache()
        self.handle = _Handle(self.cache)
        chosen = plugins or default_plugins()
        instances = [PLUGINS[name](self.handle, **(args or {}).get(name, {})) for name, _ in chosen]
        self.framework = Framework(scheduler_name="default-scheduler", plugins=instances,
                                   score_weights=dict(chosen), percentage_of_nodes_to_score=percentage,
                                   rng=random.Random(seed))
        self.handle.framework = self.framework
        for n in nodes:
            self.cache.set_node(n)

    def place(self, message, node_name: str):
        """A pod already running on a node."""
        message.spec.node_name = node_name
        self.cache.set_pod(info(message))

    def decide(self, message):
        return self.framework.find_node(CycleState(), info(message), self.cache.nodes)

    def schedule(self, message) -> str:
        """Decide and assume, as the scheduler does; returns the node ("" if none)."""
        decision = self.decide(message)
        if decision.node:
            self.cache.assume(info(message), decision.node)
        return decision.node

    def why(self, message) -> str:
        decision = self.decide(message)
        assert not decision.node, f"expected no fit, got {decision.node}"
        return decision.diagnosis.message()
