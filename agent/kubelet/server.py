"""The agent's own endpoint: pod logs, exec, attach and port-forward, and when the node's proxy programmed
pods (for `cox trace`), for the API server only.

`cox logs` and `cox exec` go CLI → API server → here → Docker. The API
server finds this endpoint on the Node (InternalIP and
daemonEndpoints.kubeletEndpoint.Port) and trusts it by the SHA-256 of its
certificate, which the agent publishes on its Node: the certificate is
self-signed, made once in the agent's root directory. Callers must present a
client certificate that the cluster CA (the one the agent got when joining)
signed for system:apiserver; nobody else may read logs or run commands here.

Requests name the pod by uid (the API server pins it), so a pod deleted and
re-created under the same name is never confused with the old one.
"""
import asyncio
import hashlib
import logging
import os
import ssl
import subprocess
import sys
from pathlib import Path

import grpc

from agent.kubelet import agentcert, portforward, streaming
from agent.kubelet.pleg import ContainerCache
from agent.proxy.programmed import ProgrammedRecord
from agent.runtime import Runtime
from agent.runtime.errors import RuntimeFailure
from agent.runtime.streams import STDERR
from controlplane.api.v1 import node_agent_pb2 as pb
from controlplane.api.wellknown import APISERVER_CLIENT_CN

log = logging.getLogger(__name__)

SERVICE = "coxswain.v1.NodeAgent"


def ensure_certificate(directory: Path) -> tuple[bytes, bytes]:
    """(cert PEM, key PEM) of the agent's self-signed serving certificate, made on first use
    by a short-lived process (agentcert.py says why)."""
    cert_path, key_path = directory / agentcert.CERT_FILE, directory / agentcert.KEY_FILE
    if not (cert_path.exists() and key_path.exists()):
        code_root = str(Path(__file__).resolve().parents[2])   # where the agent package is
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [code_root, os.environ.get("PYTHONPATH")])))
        made = subprocess.run([sys.executable, "-m", "agent.kubelet.agentcert", str(directory)], env=env,
                              capture_output=True, text=True, timeout=60)
        if made.returncode != 0:
            raise RuntimeError(f"making the agent's certificate in {directory}: {made.stderr.strip()}")
    return cert_path.read_bytes(), key_path.read_bytes()


def certificate_sha256(cert_pem: bytes) -> str:
    """What the Node's annotation pins: SHA-256 of the certificate's DER, hex."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert_pem.decode())).hexdigest()


class AgentServer:
    """The NodeAgent gRPC service over the kubelet's pods and runtime."""

    def __init__(self, runtime: Runtime, cache: ContainerCache, pods, *, cert_dir: Path, ca_pem: bytes,
                 listen: str, programmed: ProgrammedRecord | None = None) -> None:
        """programmed: what the node's proxy programmed when (None: the node runs no proxy)."""
        self._runtime = runtime
        self._programmed = programmed
        self._cache = cache
        self._pods = pods            # uid → the desired pod (PodWorkers.desired)
        self._cert, self._key = ensure_certificate(cert_dir)
        self.cert_sha256 = certificate_sha256(self._cert)
        self._ca = ca_pem
        self._listen = listen
        self._server: grpc.aio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        self._server = grpc.aio.server()
        handlers = {
            "ContainerLogs": grpc.unary_stream_rpc_method_handler(
                self._logs, request_deserializer=pb.ContainerLogsRequest.FromString,
                response_serializer=pb.LogChunk.SerializeToString),
            "ContainerExec": grpc.stream_stream_rpc_method_handler(
                self._exec, request_deserializer=pb.ExecInput.FromString,
                response_serializer=pb.ExecOutput.SerializeToString),
            "ContainerAttach": grpc.stream_stream_rpc_method_handler(
                self._attach, request_deserializer=pb.ExecInput.FromString,
                response_serializer=pb.ExecOutput.SerializeToString),
            "ContainerPortForward": grpc.stream_stream_rpc_method_handler(
                self._port_forward, request_deserializer=pb.PortForwardInput.FromString,
                response_serializer=pb.PortForwardOutput.SerializeToString),
            "ProxyProgrammed": grpc.unary_unary_rpc_method_handler(
                self._proxy_programmed, request_deserializer=pb.ProxyProgrammedRequest.FromString,
                response_serializer=pb.ProxyProgrammedResponse.SerializeToString),
        }
        self._server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        credentials = grpc.ssl_server_credentials([(self._key, self._cert)], root_certificates=self._ca,
                                                  require_client_auth=True)
        self.port = self._server.add_secure_port(self._listen, credentials)
        await self._server.start()
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=1)
            self._server = None

    async def _authorize(self, context) -> None:
        names = context.auth_context().get("x509_common_name", [])
        if APISERVER_CLIENT_CN.encode() not in names:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "only the API server may call the agent")

    async def _pod(self, context, namespace: str, name: str, uid: str):
        pod = self._pods().get(uid)
        if pod is None or pod.metadata.namespace != namespace or pod.metadata.name != name:
            await context.abort(grpc.StatusCode.NOT_FOUND, f'pod "{name}" (uid {uid}) does not run on this node')
        return pod

    async def _logs(self, request: pb.ContainerLogsRequest, context):
        await self._authorize(context)
        pod = await self._pod(context, request.namespace, request.pod, request.pod_uid)
        try:
            async for data in streaming.logs(
                    self._runtime, self._cache, pod, request.container, follow=request.follow,
                    tail=request.tail_lines if request.HasField("tail_lines") else None,
                    previous=request.previous, timestamps=request.timestamps,
                    since_seconds=request.since_seconds if request.HasField("since_seconds") else None):
                yield pb.LogChunk(data=data)
        except streaming.StreamError as e:
            await context.abort(grpc.StatusCode[e.code], str(e))
        except RuntimeFailure as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"container runtime: {e}")

    async def _exec(self, requests, context):
        async for output in self._session(requests, context, attach=False):
            yield output

    async def _attach(self, requests, context):
        async for output in self._session(requests, context, attach=True):
            yield output

    async def _opening(self, requests, context):
        """The caller authorized and the stream's first message read, which must name the pod: (start, pod)."""
        await self._authorize(context)
        first = await anext(aiter(requests), None)
        if first is None or not first.HasField("start"):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the first message must carry `start`")
        start = first.start
        return start, await self._pod(context, start.namespace, start.pod, start.pod_uid)

    async def _session(self, requests, context, *, attach: bool):
        """Exec (a new process) or attach (the container's own): stdin and resizes in, output out, then a
        last frame with the exit code."""
        start, pod = await self._opening(requests, context)
        try:
            if attach:
                session = await streaming.attach_session(self._runtime, self._cache, pod, start.container,
                                                         stdin=start.stdin, tty=start.tty)
            else:
                session = await streaming.exec_session(self._runtime, self._cache, pod, start.container,
                                                       list(start.command), stdin=start.stdin, tty=start.tty)
        except streaming.StreamError as e:
            await context.abort(grpc.StatusCode[e.code], str(e))
        except RuntimeFailure as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"container runtime: {e}")

        async def feed() -> None:
            try:
                async for message in requests:
                    if message.stdin:
                        await session.write(message.stdin)
                    if message.HasField("resize"):
                        await session.resize(width=message.resize.width, height=message.resize.height)
                    if message.stdin_closed:
                        session.close_stdin()
            except (OSError, RuntimeFailure) as e:   # the process is gone; its output tells the rest
                log.debug("exec input: %s", e)

        feeder = asyncio.create_task(feed())
        try:
            async for stream, data in session.output():
                yield pb.ExecOutput(stderr=data) if stream == STDERR else pb.ExecOutput(stdout=data)
            code = await session.exit_code()
            yield pb.ExecOutput(exit_code=code if code is not None else -1)
        finally:
            feeder.cancel()
            session.close()

    async def _port_forward(self, requests, context):
        """One TCP connection into the pod: the caller's bytes in, the pod's out, until both ends close."""
        start, pod = await self._opening(requests, context)
        try:
            reader, writer = await portforward.connect(self._cache, pod, start.port)
        except streaming.StreamError as e:
            await context.abort(grpc.StatusCode[e.code], str(e))

        async def feed() -> None:
            try:
                async for message in requests:
                    writer.write(message.data)
                    await writer.drain()
                if writer.can_write_eof():
                    writer.write_eof()
            except OSError as e:   # the pod's side closed; its reads end the call
                log.debug("port-forward input: %s", e)

        feeder = asyncio.create_task(feed())
        try:
            while data := await reader.read(64 * 1024):
                yield pb.PortForwardOutput(data=data)
        except OSError as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"port {start.port}: {e}")
        finally:
            feeder.cancel()
            writer.close()

    async def _proxy_programmed(self, request: pb.ProxyProgrammedRequest, context):
        """Each asked pod's Service ports, with the moment this node's proxy programmed it as their backend."""
        await self._authorize(context)
        if self._programmed is None:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "this node runs no Service proxy")
        answer = pb.ProxyProgrammedResponse()
        for uid, programmed in self._programmed.times(request.pod_uids).items():
            answer.pods[uid].ports.extend(
                pb.ProgrammedPort(namespace=p.service.namespace, service=p.service.name, port=p.service.port,
                                  programmed_at=p.at, number=p.number) for p in programmed)
        return answer
