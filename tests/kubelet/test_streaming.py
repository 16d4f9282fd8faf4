"""Logs (current and --previous) and exec through the kubelet's own view of its pods."""
import asyncio

import pytest

from agent.kubelet import streaming
from tests.kubelet.helpers import container, until, write_pod

IMAGE = "coxswain-test/busybox:1"
COUNTER = "n=$(cat /d/n 2>/dev/null || echo 0); echo $((n+1)) > /d/n; echo instance $n; "


def static_pod(kubelet, name):
    return next(p for p, _ in kubelet.status.statuses.values() if p.metadata.name == f"{name}-node1")


async def collect(stream):
    return b"".join([chunk async for chunk in stream])


async def test_logs_of_current_and_previous_instance(kubelet, manifests):
    write_pod(manifests, "twice", {"volumes": [{"name": "d", "emptyDir": {}}], "containers": [{
        "name": "c", "image": IMAGE, "volumeMounts": [{"name": "d", "mountPath": "/d"}],
        "command": ["sh", "-c", COUNTER + "if [ $n = 0 ]; then exit 1; fi; exec sleep 3600"]}]})
    await until(kubelet, "twice", lambda s: container(s, "c").restart_count == 1 and
                container(s, "c").state.HasField("running"), what="the second instance running")
    pod = static_pod(kubelet, "twice")
    args = (kubelet.runtime, kubelet.ctx.cache, pod, "")
    # Running is not yet printed: the second instance may still be starting its shell.
    async with asyncio.timeout(10):
        while (current := await collect(streaming.logs(*args))) == b"":
            await asyncio.sleep(0.1)
    assert current == b"instance 1\n"
    assert await collect(streaming.logs(*args, previous=True)) == b"instance 0\n"


async def test_exec_and_the_errors_it_reports(kubelet, manifests):
    write_pod(manifests, "two", {"containers": [
        {"name": "a", "image": IMAGE, "command": ["sleep", "3600"]},
        {"name": "b", "image": IMAGE, "command": ["sh", "-c", "exit 0"]}], "restartPolicy": "OnFailure"})
    await until(kubelet, "two", lambda s: container(s, "a").state.HasField("running")
                and container(s, "b").state.HasField("terminated"))
    pod = static_pod(kubelet, "two")
    session = await streaming.exec_session(kubelet.runtime, kubelet.ctx.cache, pod, "a", ["hostname"])
    output = b""
    async with asyncio.timeout(10):
        async for _, data in session.output():
            output += data
    session.close()
    assert output == b"two-node1\n" and await session.exit_code() == 0

    with pytest.raises(streaming.StreamError) as refused:
        await streaming.exec_session(kubelet.runtime, kubelet.ctx.cache, pod, "", ["true"])
    assert refused.value.code == "INVALID_ARGUMENT" and "choose one of: [a b]" in str(refused.value)
    with pytest.raises(streaming.StreamError) as refused:
        await streaming.exec_session(kubelet.runtime, kubelet.ctx.cache, pod, "b", ["true"])
    assert refused.value.code == "FAILED_PRECONDITION"
    with pytest.raises(streaming.StreamError) as refused:
        await collect(streaming.logs(kubelet.runtime, kubelet.ctx.cache, pod, "nope"))
    assert refused.value.code == "NOT_FOUND"
