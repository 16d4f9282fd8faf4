"""`cox logs` and `cox exec` end to end: client → API server → the agent's endpoint → Docker."""
import asyncio

import grpc
import pytest

from controlplane.api.v1 import node_agent_pb2 as pb
from controlplane.api.wellknown import AGENT_CERT_ANNOTATION, AGENT_TLS_NAME
from controlplane.apiserver import tls
from controlplane.client import errors
from tests.kubelet.conftest import NODE
from tests.kubelet.helpers import fetched
from tests.kubelet.test_api_pods import api_status, pod
from tests.support.polling import eventually

IMAGE = "coxswain-test/busybox:1"
COUNTER = "n=$(cat /d/n 2>/dev/null || echo 0); echo $((n+1)) > /d/n; echo instance $n; "


async def read(stream):
    return b"".join([chunk async for chunk in stream])


async def exec_all(call, *stdin: pb.ExecInput):
    for message in stdin:
        await call.write(message)
    await call.done_writing()
    out, err, code = b"", b"", None
    async for frame in call:
        out, err = out + frame.stdout, err + frame.stderr
        if frame.HasField("exit_code"):
            code = frame.exit_code
    return out, err, code


async def test_logs_through_the_api_server(joined, client):
    pods = client.resource("Pod")
    await pods.create(pod("talker", {"volumes": [{"name": "d", "emptyDir": {}}], "containers": [{
        "name": "c", "image": IMAGE, "volumeMounts": [{"name": "d", "mountPath": "/d"}],
        "command": ["sh", "-c", COUNTER + "echo line2; if [ $n = 0 ]; then exit 1; fi; exec sleep 3600"]}]}))
    await api_status(client, "talker", lambda s: s.container_statuses and s.container_statuses[0].restart_count == 1
                     and s.container_statuses[0].state.HasField("running"), what="the second instance running")
    assert await read(pods.logs("talker")) == b"instance 1\nline2\n"
    assert await read(pods.logs("talker", previous=True)) == b"instance 0\nline2\n"
    assert await read(pods.logs("talker", tail_lines=1)) == b"line2\n"
    stamped = await read(pods.logs("talker", timestamps=True, tail_lines=1))
    assert stamped.endswith(b" line2\n") and stamped.startswith(b"20")


async def test_follow_streams_new_lines(joined, client):
    pods = client.resource("Pod")
    await pods.create(pod("ticker", {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", "echo a; sleep 1; echo b; sleep 3600"]}]}))
    await api_status(client, "ticker", lambda s: s.phase == "Running")
    seen = b""
    async with asyncio.timeout(20):
        async for chunk in pods.logs("ticker", follow=True):
            seen += chunk
            if b"b\n" in seen:
                break
    assert seen == b"a\nb\n"


async def test_exec_with_stdin_exit_code_and_tty(joined, client):
    pods = client.resource("Pod")
    await pods.create(pod("shell", {"containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3600"]}]}))
    await api_status(client, "shell", lambda s: s.phase == "Running")

    out, err, code = await exec_all(await pods.exec("shell", ["sh", "-c", "tr a-z A-Z; echo oops >&2; exit 3"],
                                                    stdin=True),
                                    pb.ExecInput(stdin=b"hello\n"), pb.ExecInput(stdin_closed=True))
    assert (out, err, code) == (b"HELLO\n", b"oops\n", 3)

    out, _, code = await exec_all(await pods.exec("shell", ["hostname"]))
    assert (out, code) == (b"shell\n", 0)

    out, _, code = await exec_all(await pods.exec("shell", ["sh", "-c", "read x; stty size"], stdin=True, tty=True),
                                  pb.ExecInput(resize=pb.TerminalSize(width=90, height=30)),
                                  pb.ExecInput(stdin=b"\n"))
    assert out.endswith(b"30 90\r\n") and code == 0


async def test_exec_into_a_finished_container_is_refused(joined, client):
    pods = client.resource("Pod")
    await pods.create(pod("done", {"restartPolicy": "Never", "containers": [
        {"name": "c", "image": IMAGE, "command": ["true"]}]}))
    await api_status(client, "done", lambda s: s.phase == "Succeeded")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await exec_all(await pods.exec("done", ["true"]))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(errors.NotFound, match="previous terminated container"):
        await read(pods.logs("done", previous=True))


async def test_only_the_api_server_may_call_the_agent(joined, client, apiserver, tmp_path):
    async def published():
        node = await fetched(client, "Node", NODE)
        return node if node is not None and AGENT_CERT_ANNOTATION in node.metadata.annotations and \
            node.status.daemon_endpoints.kubelet_endpoint.port else None
    node = await eventually(published, what="the agent endpoint on the Node")
    address = f"{node.status.addresses[0].address}:{node.status.daemon_endpoints.kubelet_endpoint.port}"
    agent_cert = (joined.config.root_dir / "tls" / "agent.crt").read_bytes()
    # A certificate the cluster CA signed, but not for the API server.
    cert, key = tls.ensure_client_cert(apiserver.options.data_dir / "tls", "system:node:intruder")
    credentials = grpc.ssl_channel_credentials(root_certificates=agent_cert, private_key=key,
                                               certificate_chain=cert)
    async with grpc.aio.secure_channel(address, credentials,
                                       options=[("grpc.ssl_target_name_override", AGENT_TLS_NAME)]) as channel:
        logs = channel.unary_stream("/coxswain.v1.NodeAgent/ContainerLogs",
                                    request_serializer=pb.ContainerLogsRequest.SerializeToString,
                                    response_deserializer=pb.LogChunk.FromString)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            async for _ in logs(pb.ContainerLogsRequest(namespace="default", pod="x", pod_uid="y")):
                pass
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        programmed = channel.unary_unary("/coxswain.v1.NodeAgent/ProxyProgrammed",
                                         request_serializer=pb.ProxyProgrammedRequest.SerializeToString,
                                         response_deserializer=pb.ProxyProgrammedResponse.FromString)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await programmed(pb.ProxyProgrammedRequest(pod_uids=["y"]))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
