"""Reaching node agents for pod logs and exec, and proxy programming times (the API server's side).

The API server dials the agent at its Node's InternalIP and kubelet endpoint
port, presenting a client certificate the cluster CA signed. It trusts the
agent's self-signed certificate only if its SHA-256 matches the annotation the
agent put on its Node; the certificate is fetched once per (node, hash) and
then used as the channel's only root.
"""
import asyncio
import hashlib
import ssl

import grpc
from google.protobuf.message import Message

from controlplane.api.v1 import node_agent_pb2 as pb
from controlplane.api.wellknown import AGENT_CERT_ANNOTATION, AGENT_TLS_NAME
from controlplane.apiserver import errors
from controlplane.client.join import presented_chain


class AgentStub:
    def __init__(self, channel: grpc.aio.Channel):
        self.channel = channel
        self.logs = channel.unary_stream("/coxswain.v1.NodeAgent/ContainerLogs",
                                         request_serializer=pb.ContainerLogsRequest.SerializeToString,
                                         response_deserializer=pb.LogChunk.FromString)
        self.exec = channel.stream_stream("/coxswain.v1.NodeAgent/ContainerExec",
                                          request_serializer=pb.ExecInput.SerializeToString,
                                          response_deserializer=pb.ExecOutput.FromString)
        self.attach = channel.stream_stream("/coxswain.v1.NodeAgent/ContainerAttach",
                                            request_serializer=pb.ExecInput.SerializeToString,
                                            response_deserializer=pb.ExecOutput.FromString)
        self.port_forward = channel.stream_stream("/coxswain.v1.NodeAgent/ContainerPortForward",
                                                  request_serializer=pb.PortForwardInput.SerializeToString,
                                                  response_deserializer=pb.PortForwardOutput.FromString)
        self.proxy_programmed = channel.unary_unary("/coxswain.v1.NodeAgent/ProxyProgrammed",
                                                    request_serializer=pb.ProxyProgrammedRequest.SerializeToString,
                                                    response_deserializer=pb.ProxyProgrammedResponse.FromString)


def _address(node: Message) -> tuple[str, int]:
    ip = next((a.address for a in node.status.addresses if a.type == "InternalIP"), "")
    port = node.status.daemon_endpoints.kubelet_endpoint.port
    if not ip or not port:
        raise errors.ApiError(grpc.StatusCode.UNAVAILABLE,
                              f'node "{node.metadata.name}" has not published its agent address')
    return ip, port


class Agents:
    """Channels to agents, one per (node, pinned certificate)."""

    def __init__(self, client_cert: tuple[bytes, bytes]):
        self._cert, self._key = client_cert
        self._stubs: dict[tuple[str, str], AgentStub] = {}

    async def stub(self, node: Message) -> AgentStub:
        pin = node.metadata.annotations.get(AGENT_CERT_ANNOTATION, "")
        if not pin:
            raise errors.ApiError(grpc.StatusCode.UNAVAILABLE,
                                  f'node "{node.metadata.name}" has not published its agent certificate')
        key = (node.metadata.name, pin)
        if key not in self._stubs:
            ip, port = _address(node)
            root = await self._fetch_pinned(ip, port, pin)
            credentials = grpc.ssl_channel_credentials(root_certificates=root, private_key=self._key,
                                                       certificate_chain=self._cert)
            channel = grpc.aio.secure_channel(f"{ip}:{port}", credentials,
                                              options=[("grpc.ssl_target_name_override", AGENT_TLS_NAME)])
            for stale in [k for k in self._stubs if k[0] == node.metadata.name]:
                await self._stubs.pop(stale).channel.close()
            self._stubs[key] = AgentStub(channel)
        return self._stubs[key]

    @staticmethod
    async def _fetch_pinned(ip: str, port: int, pin: str) -> bytes:
        try:
            chain = await asyncio.to_thread(presented_chain, ip, port, 5.0)
        except OSError as e:
            raise errors.ApiError(grpc.StatusCode.UNAVAILABLE, f"agent at {ip}:{port} unreachable: {e}") from None
        for der in chain:
            if hashlib.sha256(der).hexdigest() == pin:
                return ssl.DER_cert_to_PEM_cert(der).encode()
        raise errors.ApiError(grpc.StatusCode.UNAVAILABLE,
                              f"agent at {ip}:{port} did not present the certificate its Node pins")

    async def close(self) -> None:
        for stub in self._stubs.values():
            await stub.channel.close()
        self._stubs.clear()
