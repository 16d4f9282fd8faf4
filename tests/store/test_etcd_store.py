"""What only the etcd backend has to get right: several endpoints, progress without etcd's timer."""
import asyncio

import pytest

from controlplane.store import Event, UnavailableError, open_store
from tests.support.etcd import EtcdServer, free_port


async def test_several_endpoints_use_the_one_that_answers(etcd_server):
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    live = etcd_server.url.removeprefix("etcd://")
    store = await open_store(f"etcd://{dead},{live}")
    try:
        result = await store.put("/endpoints/k", b"v", expect_mod_revision=None)
        assert result.succeeded and (await store.get("/endpoints/k")).value == b"v"
    finally:
        await store.close()
    with pytest.raises(UnavailableError):
        await open_store(f"etcd://{dead}")


async def test_request_progress_on_a_busy_watch_without_etcd_timer():
    """With etcd's progress timer at an hour, the answer is the PROGRESS added after an event batch."""
    with EtcdServer(progress_interval="1h") as server:
        store = await open_store(server.url)
        try:
            watch = await store.watch("/busy/", start_revision=await store.current_revision() + 1)
            try:
                await store.put("/elsewhere", b"x", expect_mod_revision=None)
                await watch.request_progress()
                wanted = await store.current_revision()
                put = await store.put("/busy/k", b"v", expect_mod_revision=None)
                async with asyncio.timeout(10):
                    event, progress = [await anext(aiter(watch)) for _ in range(2)]
                assert (event.type, event.revision) == (Event.PUT, put.revision)
                assert progress.type == Event.PROGRESS and progress.revision >= wanted
            finally:
                await watch.close()
        finally:
            await store.close()


async def test_a_watch_fails_with_unavailable_when_etcd_goes_away():
    server = EtcdServer().start()
    try:
        store = await open_store(server.url)
        watch = await store.watch("/gone/", start_revision=await store.current_revision() + 1)
        server.stop()
        with pytest.raises(UnavailableError):
            async with asyncio.timeout(30):
                async for _event in watch:
                    pass
        with pytest.raises(UnavailableError):
            await store.put("/gone/k", b"v", expect_mod_revision=None)
        await watch.close()
        await store.close()
    finally:
        server.stop()
