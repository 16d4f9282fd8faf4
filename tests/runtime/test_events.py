"""Docker's event stream tells the kubelet when its containers start and die."""
import asyncio

from agent.runtime.types import ContainerConfig, SandboxConfig
from tests.runtime.helpers import run_sandbox


async def test_start_and_die_events_name_the_pod(runtime, pod, image, api):
    seen = []
    events = runtime.events()

    async def collect():
        async for event in events:
            seen.append(event)
            if event.action == "die" and event.container_name == "brief":
                return

    collector = asyncio.create_task(collect())
    await asyncio.sleep(0.3)   # let the subscription reach the daemon
    stranger = api.create_container(image, ["true"])
    api.start(stranger)
    sandbox_id = await run_sandbox(runtime, SandboxConfig(pod=pod))
    config = ContainerConfig(pod=pod, name="brief", image=image, command=("true",))
    container_id = await runtime.containers.create(config, sandbox_id=sandbox_id)
    await runtime.containers.start(container_id)
    try:
        await asyncio.wait_for(collector, 20)
    finally:
        await events.aclose()
        api.remove_container(stranger, force=True)

    assert {e.pod_uid for e in seen} == {pod.uid}
    assert stranger["Id"] not in {e.container_id for e in seen}
    mine = [(e.action, e.container_name) for e in seen if e.container_id == container_id]
    assert ("start", "brief") in mine and ("die", "brief") in mine
