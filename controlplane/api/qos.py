"""A pod's quality-of-service class, from its containers' requests and limits.

Kubernetes records it in status.qosClass when a pod is created; the kubelet
uses it for OOM scores and eviction order. Only cpu and memory count:
no requests or limits anywhere is BestEffort; every container limiting both,
with requests equal to limits, is Guaranteed; anything else is Burstable.
"""
from collections import Counter

from controlplane.api import quantity

_COUNTED = ("cpu", "memory")


def qos_class(spec) -> str:
    """BestEffort, Burstable or Guaranteed for a PodSpec (after requests default from limits)."""
    requests, limits = Counter(), Counter()
    guaranteed = True
    for container in (*spec.init_containers, *spec.containers):
        for name in _COUNTED:
            requests[name] += _amount(container.resources.requests, name)
            limits[name] += _amount(container.resources.limits, name)
        if not all(_amount(container.resources.limits, name) for name in _COUNTED):
            guaranteed = False
    requests, limits = +requests, +limits  # drop zeros
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and requests == limits:
        return "Guaranteed"
    return "Burstable"


def _amount(resources, name: str):
    return quantity.parse(resources[name]) if name in resources else 0
