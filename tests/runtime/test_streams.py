"""Logs and exec against running containers."""
import asyncio
import time

from agent.runtime.streams import STDERR, STDOUT
from agent.runtime.types import ContainerConfig, SandboxConfig
from tests.runtime.helpers import run_sandbox
from tests.support.polling import eventually


async def started(runtime, pod, image, script):
    sandbox_id = await run_sandbox(runtime, SandboxConfig(pod=pod))
    config = ContainerConfig(pod=pod, name="talker", image=image, command=("sh", "-c", script))
    container_id = await runtime.containers.create(config, sandbox_id=sandbox_id)
    await runtime.containers.start(container_id)
    return container_id


async def collected(stream):
    return b"".join([chunk async for chunk in stream])


async def test_logs_interleave_stdout_and_stderr_and_tail(runtime, pod, image):
    container_id = await started(runtime, pod, image, "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; sleep 1000")
    # stdout and stderr are separate pipes: only writes apart in time keep their order.
    await eventually(lambda: _has(runtime, container_id, b"three"), what="three lines of logs")
    assert await collected(runtime.streams.logs(container_id)) == b"one\ntwo\nthree\n"
    assert await collected(runtime.streams.logs(container_id, tail=1)) == b"three\n"
    stamped = await collected(runtime.streams.logs(container_id, tail=1, timestamps=True))
    assert stamped.endswith(b" three\n") and stamped[:2] == b"20"


async def _has(runtime, container_id, text):
    return text in await collected(runtime.streams.logs(container_id))


async def test_follow_sees_lines_written_later(runtime, pod, image):
    container_id = await started(runtime, pod, image, "echo first; sleep 1; echo later; sleep 1000")
    seen = b""
    stream = runtime.streams.logs(container_id, follow=True)
    async with asyncio.timeout(20):
        async for chunk in stream:
            seen += chunk
            if b"later" in seen:
                break
    await stream.aclose()
    assert seen == b"first\nlater\n"


async def test_exec_returns_output_and_exit_code(runtime, pod, image):
    container_id = await started(runtime, pod, image, "sleep 1000")
    result = await runtime.streams.exec(container_id, ["sh", "-c", "echo out; echo err >&2; exit 7"], timeout=10)
    assert result.exit_code == 7 and not result.timed_out
    assert sorted(result.output.split()) == [b"err", b"out"]


async def test_exec_timeout_returns_promptly(runtime, pod, image):
    container_id = await started(runtime, pod, image, "sleep 1000")
    began = time.monotonic()
    result = await runtime.streams.exec(container_id, ["sleep", "30"], timeout=0.5)
    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - began < 5


async def test_exec_session_with_stdin_and_separate_streams(runtime, pod, image):
    container_id = await started(runtime, pod, image, "sleep 1000")
    session = await runtime.streams.exec_session(container_id, ["sh", "-c", "tr a-z A-Z; echo done >&2; exit 4"],
                                                 stdin=True)
    await session.write(b"hello\n")
    session.close_stdin()
    seen = {STDOUT: b"", STDERR: b""}
    async with asyncio.timeout(10):
        async for stream, data in session.output():
            seen[stream] += data
    session.close()
    assert seen == {STDOUT: b"HELLO\n", STDERR: b"done\n"}
    assert await session.exit_code() == 4


async def test_exec_session_with_a_terminal(runtime, pod, image):
    container_id = await started(runtime, pod, image, "sleep 1000")
    session = await runtime.streams.exec_session(container_id, ["sh", "-c", "read x; tty; stty size"],
                                                 tty=True, stdin=True)
    await session.resize(width=100, height=40)
    await session.write(b"go\n")
    output = b""
    async with asyncio.timeout(10):
        async for stream, data in session.output():
            assert stream == STDOUT
            output += data
    session.close()
    assert b"/dev/pts/" in output and output.endswith(b"40 100\r\n")
    assert await session.exit_code() == 0
