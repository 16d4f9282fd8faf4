"""Informers: list then watch, handlers, indexes, relist after Gone, resume across a server restart."""
import asyncio

from controlplane.client import Informer
from tests.support.control_plane import ServerProcess, admin_client, running_apiserver
from tests.support.objects import configmap, pod


async def until(predicate, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


class Recorder:
    def __init__(self):
        self.calls = []

    def handlers(self):
        return dict(on_add=lambda o: self.calls.append(("add", o.metadata.name)),
                    on_update=lambda old, new: self.calls.append(("update", new.metadata.name)),
                    on_delete=lambda o: self.calls.append(("delete", o.metadata.name)))


async def test_handlers_see_initial_objects_and_changes(client):
    cms = client.resource("ConfigMap")
    await cms.create(configmap("before"))
    informer = Informer(cms, namespace="default")
    seen = Recorder()
    informer.add_handler(**seen.handlers())
    informer.start()
    await informer.wait_synced(5)
    assert seen.calls == [("add", "before")]
    after = await cms.create(configmap("after"))
    after.data["k"] = "v"
    await cms.update(after)
    await cms.delete("before")
    await until(lambda: len(seen.calls) == 4)
    assert seen.calls[1:] == [("add", "after"), ("update", "after"), ("delete", "before")]
    assert informer.get("after", "default").data["k"] == "v" and informer.get("before", "default") is None
    await informer.stop()


async def test_index_follows_changes(client):
    pods = client.resource("Pod")
    informer = Informer(pods)
    informer.add_index("node", lambda p: [p.spec.node_name] if p.spec.node_name else [])
    informer.start()
    await informer.wait_synced(5)
    await pods.create(pod("a", node_name="n1"))
    await pods.create(pod("b", node_name="n1"))
    await pods.create(pod("c"))
    await until(lambda: len(informer.by_index("node", "n1")) == 2)
    await pods.bind("c", "n2")
    await until(lambda: [p.metadata.name for p in informer.by_index("node", "n2")] == ["c"])
    await informer.stop()


async def test_relist_after_gone_reports_the_difference(tmp_path):
    """With a tiny watch window, a paused informer's revision falls out of it: it must relist."""
    async with running_apiserver(tmp_path / "data", watch_history=2) as server:
        async with admin_client(server) as client:
            cms = client.resource("ConfigMap")
            await cms.create(configmap("stays"))
            await cms.create(configmap("goes"))
            informer = Informer(cms, namespace="default")
            seen = Recorder()
            informer.add_handler(**seen.handlers())
            informer.start()
            await informer.wait_synced(5)
            await informer.stop()          # a client cut off for a while...
            await cms.delete("goes")
            for i in range(5):
                await cms.create(configmap(f"new{i}"))
            seen.calls.clear()
            informer.start()               # ...resumes from a revision the server no longer has
            await until(lambda: {n for _, n in seen.calls} >= {"goes", *(f"new{i}" for i in range(5))})
            assert ("delete", "goes") in seen.calls
            assert sorted(o.metadata.name for o in informer.list()) == ["new0", "new1", "new2", "new3",
                                                                         "new4", "stays"]
            await informer.stop()


async def test_informer_resumes_after_server_restart(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        async with server.client() as client:
            cms = client.resource("ConfigMap")
            informer = Informer(cms, namespace="default")
            informer.start()
            await informer.wait_synced(5)
            await cms.create(configmap("one"))
            await until(lambda: informer.get("one", "default") is not None)
            server.kill()
            server.start()
            await cms.create(configmap("two"))
            await until(lambda: informer.get("two", "default") is not None, timeout=20)
            await informer.stop()
    finally:
        server.stop()
