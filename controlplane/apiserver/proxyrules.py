"""PodService/ProxyRules (the pods/proxyrules subresource): when each Node's proxy programmed a pod.

Every node runs its own proxy, so the answer is every agent's: the API server
asks them all at once (NodeAgent/ProxyProgrammed, by the pod's uid), each
with a short deadline, and returns one entry per Node: the Service ports the
pod became a ready backend of there and when, none yet, or why that agent
could not answer. One node down never fails the whole answer: `cox trace`
shows what the others said.
"""
import asyncio

import grpc
from google.protobuf.message import Message

from controlplane.api.v1 import node_agent_pb2 as pb
from controlplane.apiserver import errors
from controlplane.apiserver.agents import Agents
from controlplane.apiserver.registry import Registry
from controlplane.apiserver.watchcache import WatchCache

DEFAULT_TIMEOUT = 3.0   # seconds per node, pinning its certificate included


class ProxyRules:
    def __init__(self, pods: Registry, nodes: WatchCache, agents: Agents, *, timeout: float = DEFAULT_TIMEOUT):
        self._pods = pods
        self._nodes = nodes
        self._agents = agents
        self._timeout = timeout

    async def rules(self, request: pb.PodProxyRulesRequest, context) -> pb.PodProxyRules:
        if not request.name:
            raise errors.invalid("name: required")
        pod = await self._pods.get(request.namespace or "default", request.name)
        nodes = [cached.obj for cached in self._nodes.list()]
        answers = await asyncio.gather(*(self._ask(node, pod.metadata.uid) for node in nodes))
        return pb.PodProxyRules(namespace=pod.metadata.namespace, name=pod.metadata.name, uid=pod.metadata.uid,
                                nodes=sorted(answers, key=lambda a: a.node))

    async def _ask(self, node: Message, uid: str) -> pb.NodeProxyRules:
        name = node.metadata.name
        try:
            async with asyncio.timeout(self._timeout):
                stub = await self._agents.stub(node)
                answer = await stub.proxy_programmed(pb.ProxyProgrammedRequest(pod_uids=[uid]))
        except TimeoutError:
            return pb.NodeProxyRules(node=name, error=f"the agent did not answer within {self._timeout:g}s")
        except errors.ApiError as e:
            return pb.NodeProxyRules(node=name, error=e.message)
        except grpc.aio.AioRpcError as e:
            return pb.NodeProxyRules(node=name, error=f"{e.code().name}: {e.details()}")
        return pb.NodeProxyRules(node=name, reached=True, ports=answer.pods[uid].ports)
