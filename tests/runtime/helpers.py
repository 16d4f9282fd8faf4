"""Shared steps of the runtime tests."""
from agent.runtime.types import SandboxConfig


async def run_sandbox(runtime, config: SandboxConfig) -> str:
    """Create and start a pod's pause container; its id."""
    sandbox_id = await runtime.sandboxes.create(config)
    await runtime.containers.start(sandbox_id)
    return sandbox_id
