"""Sidecar init containers: the rules that set them apart, as pure functions of the spec and statuses.

An init container with `restartPolicy: Always` is a sidecar (Kubernetes 1.29+).
It starts in its turn among the init containers, and the next one starts as
soon as it has *started* (running, its postStart done, its startupProbe
passed) rather than finished. It then runs beside the main containers, is
restarted whenever it exits whatever the pod's restartPolicy, has probes,
counts for the pod's readiness, and never decides the pod's phase: a Job's
pod completes when its main containers do. On the way down the sidecars go
last, after the main containers, in the reverse of their order in the spec.

podplan.py asks these questions when it plans, status.py when it reports,
and the pod worker when it orders a stop.
"""
from collections.abc import Iterable

from google.protobuf.message import Message

from agent.runtime.types import ContainerStatus, Kind
from controlplane.api import podresources

ALWAYS = podresources.SIDECAR_RESTART_POLICY
is_sidecar = podresources.is_sidecar


def names(pod: Message) -> list[str]:
    """The pod's sidecars, in spec order."""
    return [c.name for c in pod.spec.init_containers if is_sidecar(c)]


def restart_policy(pod: Message, kind: Kind, name: str) -> str:
    """The restart policy that applies to one container: a sidecar's own, else the pod's."""
    if kind is Kind.INIT and name in names(pod):
        return ALWAYS
    return pod.spec.restart_policy or ALWAYS


def stop_order(pod: Message, running: Iterable[ContainerStatus]) -> list[list[ContainerStatus]]:
    """Groups to stop one after the other: every other container at once, then each sidecar alone,
    last one in the spec first (sandboxes are not containers here and are left out)."""
    order = {name: index for index, name in enumerate(names(pod))} if pod is not None else {}
    first, last = [], []
    for status in running:
        if status.kind is Kind.SANDBOX:
            continue
        (last if status.kind is Kind.INIT and status.name in order else first).append(status)
    last.sort(key=lambda s: order[s.name], reverse=True)
    return [group for group in (first, *([s] for s in last)) if group]
