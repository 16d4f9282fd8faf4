"""The locally built pause image behaves as a pause: prompt SIGTERM, reaps zombies."""
import asyncio
from pathlib import Path

from agent.runtime.types import SandboxConfig, State
from tests.runtime.helpers import run_sandbox
from tests.runtime.test_lifecycle import timed_stop


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, state letter) of every process whose parent is `pid`, from the host's /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append((int(entry.name), fields[0]))
    return found


async def test_pause_exits_promptly_on_sigterm(runtime, pod):
    sandbox_id = await run_sandbox(runtime, SandboxConfig(pod=pod))
    status, took = await timed_stop(runtime, sandbox_id, 20)
    assert status.state is State.EXITED and status.exit_code == 0
    assert took < 5, f"pause took {took:.1f}s to stop; it should not need SIGKILL"


async def test_pause_reaps_orphans(runtime, pod, api):
    sandbox_id = await run_sandbox(runtime, SandboxConfig(pod=pod))
    pid = api.inspect_container(sandbox_id)["State"]["Pid"]
    # The exec'd shell exits at once; its two sleeps are orphaned to the sandbox's PID 1.
    result = await runtime.streams.exec(sandbox_id, ["sh", "-c", "sleep 0.2 & sleep 0.2 & exit 0"], timeout=10)
    assert result.exit_code == 0
    await asyncio.sleep(1.0)
    assert [state for _, state in children(pid) if state == "Z"] == []
