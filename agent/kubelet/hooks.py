"""Container lifecycle hooks: postStart after a container starts, preStop before it is stopped.

A hook is one handler, as in Kubernetes: `exec` (a command run in the
container through Docker exec, success is exit 0), `httpGet` (a GET to the
pod's IP unless a host is given; any response succeeds, as in Kubernetes,
only a failed request fails) or `sleep`
(the kubelet waits). The runners are the probes' (prober/runners.py): a hook
is a probe run once, with a deadline instead of a period. `run` never
raises: it returns None on success, else what went wrong, which the pod
worker turns into a FailedPostStartHook or FailedPreStopHook event.

Validation (controlplane/api/validation/containers.py) guarantees exactly one
handler and refuses tcpSocket, which Kubernetes deprecated for hooks.
"""
import asyncio

from google.protobuf.message import Message

from agent.kubelet.podplan import latest_sandbox
from agent.kubelet.prober import runners
from agent.kubelet.prober.worker import port_number
from agent.runtime import Runtime
from agent.runtime.types import ContainerStatus

POST_START_TIMEOUT = 300.0   # seconds: Kubernetes sets none; a hung postStart must not hold the worker for ever


async def run(runtime: Runtime, handler: Message, *, container_id: str, host: str, named_ports: dict[str, int],
              timeout: float) -> str | None:
    """Run one LifecycleHandler within `timeout` seconds; None if it succeeded, else the failure."""
    try:
        if handler.HasField("exec"):
            result = await runners.exec_probe(runtime, container_id, list(handler.exec.command), timeout=timeout)
        elif handler.HasField("http_get"):
            action = handler.http_get
            result = await runners.http_probe(
                action.host or host, port_number(action.port, named_ports), action.path or "/",
                scheme=action.scheme or "HTTP", headers={h.name: h.value for h in action.http_headers},
                timeout=timeout, any_status=True)
        elif handler.HasField("sleep"):
            await asyncio.sleep(min(float(handler.sleep.seconds), timeout))
            return None
        else:
            return "the hook has no handler (exec, httpGet or sleep)"
    except ValueError as e:   # a named port the container does not have
        return str(e)
    return None if result.success else result.message


def named_ports(container: Message) -> dict[str, int]:
    """The container's ports by name, for a hook's httpGet that names its port."""
    return {p.name: p.container_port for p in container.ports if p.name}


def pod_host(snapshot: list[ContainerStatus], *, host_ip: str) -> str:
    """Where a hook's httpGet goes without a host: the pod's IP (the node's with hostNetwork)."""
    sandbox = latest_sandbox(snapshot)
    return (sandbox.ip if sandbox is not None and not sandbox.host_network else "") or host_ip


def failure(handler: Message, pod: Message, container: str, problem: str) -> str:
    """The event message of a failed hook, worded as Kubernetes' (FailedPostStartHook, FailedPreStopHook)."""
    if handler.HasField("exec"):
        what = f"Exec lifecycle hook ({list(handler.exec.command)})"
    elif handler.HasField("http_get"):
        what = f"HTTP lifecycle hook ({handler.http_get.path or '/'})"
    else:
        what = "Sleep lifecycle hook"
    return (f'{what} for Container "{container}" in Pod "{pod.metadata.name}_{pod.metadata.namespace}" '
            f"failed - error: {problem}")
