"""kill -9 of `cox server` during a stream of creates loses no acknowledged write."""
import asyncio

from controlplane.client import errors
from tests.support.control_plane import ServerProcess
from tests.support.objects import configmap


async def test_acknowledged_creates_survive_kill_9(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    acknowledged: list[str] = []
    try:
        client = server.client(timeout=5)

        async def writer(worker: int):
            for i in range(100_000):
                name = f"w{worker}-{i}"
                try:
                    await client.resource("ConfigMap").create(configmap(name))
                except errors.ApiError:
                    return  # the server died mid-call: this one was never acknowledged
                acknowledged.append(name)

        tasks = [asyncio.create_task(writer(w)) for w in range(8)]
        while len(acknowledged) < 300:
            await asyncio.sleep(0.01)
        server.kill()
        await asyncio.gather(*tasks)
        await client.close()

        server.start()
        async with server.client() as client:
            stored = {c.metadata.name for c in (await client.resource("ConfigMap").list()).items}
        assert len(acknowledged) >= 300
        assert set(acknowledged) <= stored, f"lost: {sorted(set(acknowledged) - stored)[:10]}"
    finally:
        server.stop()
