"""PodService/Logs and PodService/Exec (and REST pods/portforward): find the pod's agent and relay the stream.

The API server checks what it can (the pod exists and is scheduled, the
container exists), pins the pod's uid so the agent serves exactly this pod,
and passes the agent's answer, or its error with its code, through.
"""
import asyncio

import grpc
from google.protobuf.message import Message

from controlplane.api.v1 import node_agent_pb2 as pb
from controlplane.apiserver import errors
from controlplane.apiserver.agents import Agents
from controlplane.apiserver.registry import Registry


def _container(pod: Message, name: str) -> str:
    names = [c.name for c in pod.spec.containers]
    if not name:
        if len(names) == 1:
            return names[0]
        raise errors.invalid(f"a container name must be specified for pod {pod.metadata.name}, "
                             f"choose one of: [{' '.join(names)}]")
    if name not in names and name not in (c.name for c in pod.spec.init_containers):
        raise errors.invalid(f"container {name} is not valid for pod {pod.metadata.name}")
    return name


class PodStreams:
    def __init__(self, pods: Registry, nodes: Registry, agents: Agents):
        self._pods = pods
        self._nodes = nodes
        self._agents = agents

    async def _scheduled_pod(self, namespace: str, name: str) -> Message:
        pod = await self._pods.get(namespace or "default", name)
        if not pod.spec.node_name:
            raise errors.failed_precondition(f"pod {name} is not scheduled to a node yet")
        return pod

    async def _agent(self, pod: Message):
        return await self._agents.stub(await self._nodes.get("", pod.spec.node_name))

    async def logs(self, request: pb.PodLogsRequest, context):
        pod = await self._scheduled_pod(request.namespace, request.name)
        forward = pb.ContainerLogsRequest(
            namespace=pod.metadata.namespace, pod=pod.metadata.name, pod_uid=pod.metadata.uid,
            container=_container(pod, request.container), follow=request.follow,
            previous=request.previous, timestamps=request.timestamps)
        for field in ("tail_lines", "since_seconds"):
            if request.HasField(field):
                setattr(forward, field, getattr(request, field))
        call = (await self._agent(pod)).logs(forward)
        try:
            async for chunk in call:
                yield chunk
        except grpc.aio.AioRpcError as e:
            raise errors.ApiError(e.code(), e.details()) from None
        finally:
            call.cancel()

    async def exec(self, requests, context):
        async for output in self._session(requests, attach=False):
            yield output

    async def attach(self, requests, context):
        """The container's own process (REST pods/attach): as exec, without a command."""
        async for output in self._session(requests, attach=True):
            yield output

    async def _session(self, requests, *, attach: bool):
        first = await anext(aiter(requests), None)
        if first is None or not first.HasField("start"):
            raise errors.invalid("the first message must carry `start`")
        start = first.start
        if not attach and not start.command:
            raise errors.invalid("command: required")
        if attach and start.command:
            raise errors.invalid("command: an attach runs no command")
        pod = await self._scheduled_pod(start.namespace, start.pod)
        start.namespace, start.pod_uid = pod.metadata.namespace, pod.metadata.uid
        start.container = _container(pod, start.container)
        stub = await self._agent(pod)
        async for output in self._relay(stub.attach() if attach else stub.exec(), first, requests):
            yield output

    async def port_forward(self, requests, context):
        """One TCP connection to a port of the pod (REST pods/portforward): the first message carries `start`."""
        first = await anext(aiter(requests), None)
        if first is None or not first.HasField("start"):
            raise errors.invalid("the first message must carry `start`")
        start = first.start
        pod = await self._scheduled_pod(start.namespace, start.pod)
        start.namespace, start.pod_uid = pod.metadata.namespace, pod.metadata.uid
        async for output in self._relay((await self._agent(pod)).port_forward(), first, requests):
            yield output

    @staticmethod
    async def _relay(call, first, requests):
        """The agent's answers to `first` and then `requests`, its errors raised with their codes."""
        await call.write(first)

        async def forward_input():
            async for message in requests:
                await call.write(message)
            await call.done_writing()

        pump = asyncio.create_task(forward_input())
        try:
            async for output in call:
                yield output
        except grpc.aio.AioRpcError as e:
            raise errors.ApiError(e.code(), e.details()) from None
        finally:
            pump.cancel()
            call.cancel()
