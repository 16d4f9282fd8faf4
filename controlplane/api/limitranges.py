"""LimitRange rules: the defaults a namespace's LimitRanges give containers, and the bounds they set.

Pure functions for the LimitRanger admission plugin. A `Container` item fills
in a container's missing limits (`default`) and requests (`defaultRequest`),
then bounds each container (`min` on requests and limits, `max` on limits and
requests, `maxLimitRequestRatio`); a `Pod` item bounds the pod's totals; a
`PersistentVolumeClaim` item bounds a claim's storage request. Messages are
Kubernetes' own, so scripts that match them keep working.
"""
import operator
from fractions import Fraction

from controlplane.api import podresources, quantity, resourcequota

CONTAINER, POD, CLAIM = "Container", "Pod", "PersistentVolumeClaim"
TYPES = (CONTAINER, POD, CLAIM)
ANNOTATION = "kubernetes.io/limit-ranger"


def effective_defaults(item) -> tuple[dict, dict]:
    """(default limits, default requests) of a Container item, completed as Kubernetes defaults them:
    a limit defaults to `max`, a request to the default limit, then to `min`."""
    limits = {**dict(item.max), **dict(item.default)}
    requests = {**dict(item.min), **limits, **dict(item.default_request)}
    return limits, requests


def apply_defaults(pod, ranges) -> list[str]:
    """Fill each container's missing requests and limits from the Container items; say what was set."""
    said = []
    for item in (i for r in ranges for i in r.spec.limits if i.type == CONTAINER):
        limits, requests = effective_defaults(item)
        for container in (*pod.spec.init_containers, *pod.spec.containers):
            resources = container.resources
            for name, value in sorted(requests.items()):
                if name not in resources.requests:
                    resources.requests[name] = value
                    said.append(f"{name} request for container {container.name}")
            for name, value in sorted(limits.items()):
                if name not in resources.limits:
                    resources.limits[name] = value
                    said.append(f"{name} limit for container {container.name}")
    return said


def pod_violations(pod, ranges) -> list[str]:
    """What of the pod breaks the Container and Pod items' bounds."""
    out = []
    containers = (*pod.spec.init_containers, *pod.spec.containers)
    for range_ in ranges:
        for item in range_.spec.limits:
            if item.type == CONTAINER:
                for c in containers:
                    out += _bounds(CONTAINER, item, dict(c.resources.requests), dict(c.resources.limits))
            elif item.type == POD:
                out += _bounds(POD, item, _pod_total(pod.spec, "requests"), _pod_total(pod.spec, "limits"))
    return out


def claim_violations(claim, ranges) -> list[str]:
    """What of a PersistentVolumeClaim's storage breaks the PersistentVolumeClaim items' bounds."""
    out = []
    resources = claim.spec.resources
    for item in (i for r in ranges for i in r.spec.limits if i.type == CLAIM):
        out += _bounds(CLAIM, item, dict(resources.requests), dict(resources.limits), bound_limits=False)
    return out


def _pod_total(spec, which: str) -> dict[str, str]:
    """The pod's requests or limits per resource that every app container states (its effective amount:
    podresources.pod_total); a resource some container leaves out is unstated for the pod."""
    names = set.intersection(*(set(getattr(c.resources, which)) for c in spec.containers)) if spec.containers \
        else set()
    totals = {}
    for name in names:
        def amount(container, name=name) -> Fraction:
            values = getattr(container.resources, which)
            return quantity.parse(values[name]) if name in values else Fraction(0)
        total = podresources.pod_total(spec, amount, add=operator.add, larger=max, zero=Fraction(0))
        totals[name] = resourcequota.format_amount(name, total)
    return totals


def _bounds(kind: str, item, requests: dict, limits: dict, *, bound_limits: bool = True) -> list[str]:
    """One message per broken bound (its first reason), as Kubernetes reports them."""
    out = []
    for name, low in item.min.items():
        request, limit = requests.get(name), limits.get(name)
        if request is None:
            out.append(f"minimum {name} usage per {kind} is {low}.  No request is specified")
        elif quantity.parse(request) < quantity.parse(low):
            out.append(f"minimum {name} usage per {kind} is {low}, but request is {request}")
        elif limit is not None and quantity.parse(limit) < quantity.parse(low):
            out.append(f"minimum {name} usage per {kind} is {low}, but limit is {limit}")
    for name, high in item.max.items():
        request, limit = requests.get(name), limits.get(name)
        if bound_limits and limit is None:
            out.append(f"maximum {name} usage per {kind} is {high}.  No limit is specified")
        elif limit is not None and quantity.parse(limit) > quantity.parse(high):
            out.append(f"maximum {name} usage per {kind} is {high}, but limit is {limit}")
        elif request is not None and quantity.parse(request) > quantity.parse(high):
            out.append(f"maximum {name} usage per {kind} is {high}, but request is {request}")
    for name, ratio in item.max_limit_request_ratio.items():
        request, limit = requests.get(name), limits.get(name)
        if request is None or quantity.parse(request) == 0:
            out.append(f"{name} max limit to request ratio per {kind} is {ratio}, but no request is specified "
                       f"or request is 0")
        elif limit is None:
            out.append(f"{name} max limit to request ratio per {kind} is {ratio}, but no limit is specified")
        else:
            actual = quantity.parse(limit) / quantity.parse(request)
            if actual > quantity.parse(ratio):
                out.append(f"{name} max limit to request ratio per {kind} is {ratio}, "
                           f"but provided ratio is {float(actual):f}")
    return out
