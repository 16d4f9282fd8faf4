"""A pod's effective resource amount, one rule for the scheduler, ResourceQuota and LimitRange.

Kubernetes keeps it once (pkg/api/v1/resource PodRequests/PodLimits): the
app containers' sum plus the sidecars' (init containers with `restartPolicy:
Always`, which keep running beside everything started after them), or what
the init phase needs at its peak if that is more, each plain init container
counting together with the sidecars started before it.
"""
from collections.abc import Callable
from typing import TypeVar

from google.protobuf.message import Message

SIDECAR_RESTART_POLICY = "Always"

T = TypeVar("T")


def is_sidecar(container: Message) -> bool:
    """An init container that runs for the pod's whole life (Kubernetes' native sidecar)."""
    return container.restart_policy == SIDECAR_RESTART_POLICY


def pod_total(spec: Message, amount: Callable[[Message], T], *, add: Callable[[T, T], T],
              larger: Callable[[T, T], T], zero: T) -> T:
    """The pod's effective amount of whatever `amount` measures of one container; `add` and `larger`
    combine two amounts (plain numbers, or tuples of several resources element by element)."""
    app = side = peak = zero
    for container in spec.containers:
        app = add(app, amount(container))
    for container in spec.init_containers:
        need = amount(container)
        if is_sidecar(container):   # from here on it runs beside everything after it
            side = add(side, need)
            need = side
        else:
            need = add(need, side)
        peak = larger(peak, need)
    return larger(add(app, side), peak)
