"""Stopping, exit codes and OOM kills, as the kubelet will report them."""
import time

from agent.runtime.types import ContainerConfig, SandboxConfig, State
from tests.runtime.helpers import run_sandbox
from tests.support.polling import eventually


async def run(runtime, pod, image, name, script, **options):
    sandbox_id = await run_sandbox(runtime, SandboxConfig(pod=pod))
    config = ContainerConfig(pod=pod, name=name, image=image, command=("sh", "-c", script), **options)
    container_id = await runtime.containers.create(config, sandbox_id=sandbox_id)
    await runtime.containers.start(container_id)
    return container_id


async def exited(runtime, container_id):
    async def probe():
        status = await runtime.containers.inspect(container_id)
        return status if status.state is State.EXITED else None
    return await eventually(probe, what=f"container {container_id[:12]} to exit")


async def wait_for_output(runtime, container_id, text):
    async def probe():
        chunks = [c async for c in runtime.streams.logs(container_id)]
        return text in b"".join(chunks)
    await eventually(probe, what=f"{text!r} in the logs")


async def timed_stop(runtime, container_id, grace_seconds):
    """Stop a container; (its status afterwards, seconds the stop took)."""
    began = time.monotonic()
    await runtime.containers.stop(container_id, grace_seconds=grace_seconds)
    took = time.monotonic() - began
    return await runtime.containers.inspect(container_id), took


async def test_sigterm_handler_exits_within_grace(runtime, pod, image):
    container_id = await run(runtime, pod, image, "polite",
                             "trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.1; done")
    await wait_for_output(runtime, container_id, b"ready")
    status, took = await timed_stop(runtime, container_id, 10)
    assert status.state is State.EXITED and status.exit_code == 0
    assert took < 5, f"stop took {took:.1f}s although the container exits on SIGTERM"


async def test_sigterm_ignored_means_sigkill_after_grace(runtime, pod, image):
    container_id = await run(runtime, pod, image, "stubborn",
                             "trap '' TERM; echo ready; while :; do sleep 0.1; done")
    await wait_for_output(runtime, container_id, b"ready")
    status, took = await timed_stop(runtime, container_id, 2)
    assert status.exit_code == 137 and not status.oom_killed
    assert 2 <= took < 8, f"stop took {took:.1f}s with a 2s grace period"


async def test_exit_code_and_times(runtime, pod, image):
    container_id = await run(runtime, pod, image, "failing", "exit 3")
    status = await exited(runtime, container_id)
    assert status.exit_code == 3 and not status.oom_killed and status.error == ""
    # Docker stamps StartedAt when start returns, so an instant exit may look finished a moment "before".
    assert status.started_at is not None and status.finished_at is not None
    assert abs((status.finished_at - status.started_at).total_seconds()) < 5


async def test_oom_kill_is_reported(runtime, pod, image):
    # The shell keeps ~100 MB in a variable under a 16 MiB limit: the kernel's OOM killer ends it.
    container_id = await run(runtime, pod, image, "hungry",
                             "x=$(head -c 100000000 /dev/zero | tr '\\000' a); echo survived",
                             memory_limit=16 << 20)
    status = await exited(runtime, container_id)
    assert status.oom_killed and status.exit_code == 137


async def test_start_failure_is_reported(runtime, pod, image):
    sandbox_id = await run_sandbox(runtime, SandboxConfig(pod=pod))
    config = ContainerConfig(pod=pod, name="missing", image=image, command=("/no/such/binary",))
    container_id = await runtime.containers.create(config, sandbox_id=sandbox_id)
    try:
        await runtime.containers.start(container_id)
    except Exception as e:   # the daemon refuses the start; the container records why
        assert "no such file" in str(e).lower()
    else:
        raise AssertionError("starting a missing binary succeeded")
    status = await runtime.containers.inspect(container_id)
    assert status.state in (State.CREATED, State.EXITED)
    assert "no such file" in status.error.lower()
    assert status.exit_code in (None, 127)


async def test_remove_takes_running_containers(runtime, pod, image):
    container_id = await run(runtime, pod, image, "doomed", "sleep 1000")
    await runtime.containers.remove(container_id)
    assert [c.id for c in await runtime.containers.list(pod_uid=pod.uid) if c.id == container_id] == []
