"""Logs, exec and attach of a pod's containers, found by pod uid and container name.

The agent's endpoint (for `cox logs` and `cox exec`, relayed by the API
server) is a thin layer over this: it names the pod and the container, and
this finds the right Docker container (the running or latest instance, or
the one before it for --previous) among the kubelet's own, by label.
"""
import time
from collections.abc import AsyncIterator

from google.protobuf.message import Message

from agent.kubelet.pleg import ContainerCache
from agent.runtime import Runtime
from agent.runtime.streams import ExecSession
from agent.runtime.types import ContainerStatus, Kind, State


class StreamError(Exception):
    """A request that cannot be served; `code` is the gRPC status name to answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def container_name(pod: Message, requested: str) -> str:
    """The container a request means: the one named, or the pod's only one."""
    names = [c.name for c in (*pod.spec.init_containers, *pod.spec.containers)]
    if requested:
        if requested not in names:
            raise StreamError("NOT_FOUND", f'container "{requested}" is not valid for pod {pod.metadata.name}')
        return requested
    if len(pod.spec.containers) == 1:
        return pod.spec.containers[0].name
    raise StreamError("INVALID_ARGUMENT", f"a container name must be specified for pod {pod.metadata.name}, "
                                          f"choose one of: [{' '.join(c.name for c in pod.spec.containers)}]")


async def find_instance(cache: ContainerCache, pod: Message, name: str, *, previous: bool) -> ContainerStatus:
    attempts = sorted((s for s in cache.of_pod(pod.metadata.uid) if s.kind is not Kind.SANDBOX and s.name == name),
                      key=lambda s: s.attempt)
    if previous:
        exited = [s for s in attempts[:-1] if s.state is State.EXITED]
        if not exited:
            raise StreamError("NOT_FOUND", f'previous terminated container "{name}" in pod '
                                           f'"{pod.metadata.name}" not found')
        return exited[-1]
    if not attempts:
        raise StreamError("NOT_FOUND", f'container "{name}" in pod "{pod.metadata.name}" has not been created yet')
    return attempts[-1]


async def logs(runtime: Runtime, cache: ContainerCache, pod: Message, container: str, *, follow: bool = False,
               tail: int | None = None, previous: bool = False, timestamps: bool = False,
               since_seconds: int | None = None) -> AsyncIterator[bytes]:
    instance = await find_instance(cache, pod, container_name(pod, container), previous=previous)
    since = time.time() - since_seconds if since_seconds else None
    async for chunk in runtime.streams.logs(instance.id, follow=follow and instance.state is State.RUNNING,
                                            tail=tail, timestamps=timestamps, since=since):
        yield chunk


async def exec_session(runtime: Runtime, cache: ContainerCache, pod: Message, container: str,
                       command: list[str], *, stdin: bool = False, tty: bool = False) -> ExecSession:
    if not command:
        raise StreamError("INVALID_ARGUMENT", "a command is required")
    name = container_name(pod, container)
    instance = await find_instance(cache, pod, name, previous=False)
    if instance.state is not State.RUNNING:
        raise StreamError("FAILED_PRECONDITION", f'container "{name}" in pod "{pod.metadata.name}" is not running')
    return await runtime.streams.exec_session(instance.id, command, stdin=stdin, tty=tty)


async def attach_session(runtime: Runtime, cache: ContainerCache, pod: Message, container: str, *,
                         stdin: bool = False, tty: bool = False) -> ExecSession:
    """The running container's own stdio (kubectl attach)."""
    name = container_name(pod, container)
    instance = await find_instance(cache, pod, name, previous=False)
    if instance.state is not State.RUNNING:
        raise StreamError("FAILED_PRECONDITION", f'container "{name}" in pod "{pod.metadata.name}" is not running')
    return await runtime.streams.attach_session(instance.id, stdin=stdin, tty=tty)
