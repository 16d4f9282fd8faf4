"""The labels and names that mark a container as the kubelet's own.

The kubelet manages only containers carrying MANAGED_BY; everything it needs
to rebuild its picture after a restart (which pod, which container, which
attempt, the spec it was made from, the grace period to stop it with) is in
these labels, so adoption is a listing, not a database.
"""
from agent.runtime.types import ContainerConfig, Kind, PodRef, SandboxConfig

PREFIX = "io.coxswain."
MANAGED_BY = PREFIX + "managed-by"
MANAGER = "coxswain"
POD_UID = PREFIX + "pod.uid"
POD_NAMESPACE = PREFIX + "pod.namespace"
POD_NAME = PREFIX + "pod.name"
CONTAINER_NAME = PREFIX + "container.name"
KIND = PREFIX + "container.kind"
ATTEMPT = PREFIX + "container.attempt"
SPEC_HASH = PREFIX + "container.hash"
GRACE = PREFIX + "pod.termination-grace-period"
POD_IP = PREFIX + "pod.ip"   # on a sandbox the agent wires itself (Docker knows no address for it)

SANDBOX_NAME = "POD"   # the container name a sandbox carries, as Kubernetes' dockershim did


def managed_filter(**match: str) -> list[str]:
    """A Docker `label` filter list: managed by us, plus label=value pairs."""
    return [f"{MANAGED_BY}={MANAGER}", *(f"{k}={v}" for k, v in match.items())]


def pod_filter(uid: str) -> list[str]:
    return managed_filter(**{POD_UID: uid})


def _pod_labels(pod: PodRef) -> dict[str, str]:
    return {MANAGED_BY: MANAGER, POD_UID: pod.uid, POD_NAMESPACE: pod.namespace, POD_NAME: pod.name}


def for_sandbox(config: SandboxConfig) -> dict[str, str]:
    return {**_pod_labels(config.pod), CONTAINER_NAME: SANDBOX_NAME, KIND: Kind.SANDBOX.value,
            ATTEMPT: str(config.attempt), GRACE: str(config.grace_seconds), **({POD_IP: config.ip} if config.ip else {})}


def for_container(config: ContainerConfig) -> dict[str, str]:
    return {**_pod_labels(config.pod), CONTAINER_NAME: config.name, KIND: config.kind.value,
            ATTEMPT: str(config.attempt), SPEC_HASH: config.spec_hash,
            GRACE: str(config.grace_seconds)}


def pod_of(labels: dict[str, str]) -> PodRef:
    return PodRef(uid=labels.get(POD_UID, ""), namespace=labels.get(POD_NAMESPACE, ""),
                  name=labels.get(POD_NAME, ""))


def kind_of(labels: dict[str, str]) -> Kind:
    return Kind(labels.get(KIND, Kind.APP.value))


def attempt_of(labels: dict[str, str]) -> int:
    return _int(labels.get(ATTEMPT), 0)


def grace_of(labels: dict[str, str]) -> int:
    return _int(labels.get(GRACE), 30)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def docker_name(pod: PodRef, container: str, attempt: int) -> str:
    """A readable, unique Docker name: cox_<container>_<pod>_<namespace>_<uid>_<attempt>."""
    return f"cox_{container}_{pod.name}_{pod.namespace}_{pod.uid}_{attempt}"
