"""List and Watch from the watch cache: consistency, selectors, paging, resume, compaction."""
import asyncio

import pytest

from controlplane.client import errors
from tests.support.control_plane import admin_client, running_apiserver
from tests.support.objects import configmap, pod


async def next_events(stream, n, timeout=5.0):
    out = []
    async def take():
        async for event in stream:
            if event.type != "BOOKMARK":
                out.append((event.type, event.object.metadata.name))
                if len(out) == n:
                    return
    await asyncio.wait_for(take(), timeout)
    return out


async def test_list_right_after_write_sees_it(client):
    cms = client.resource("ConfigMap")
    for i in range(20):
        await cms.create(configmap(f"c{i}"))
        names = {c.metadata.name for c in (await cms.list(namespace="default")).items}
        assert f"c{i}" in names


async def test_watch_from_empty_rv_starts_with_current_objects(client):
    cms = client.resource("ConfigMap")
    await cms.create(configmap("a"))
    stream = cms.watch(namespace="default").__aiter__()
    assert await next_events(stream, 1) == [("ADDED", "a")]
    await cms.create(configmap("b"))
    b = await cms.get("b")
    b.data["k"] = "v"
    await cms.update(b)
    await cms.delete("a")
    assert await next_events(stream, 3) == [("ADDED", "b"), ("MODIFIED", "b"), ("DELETED", "a")]
    await stream.aclose()


async def test_watch_from_revision_replays_what_followed(client):
    cms = client.resource("ConfigMap")
    first = await cms.create(configmap("a"))
    await cms.create(configmap("b"))
    await cms.delete("a")
    stream = cms.watch(resource_version=first.metadata.resource_version).__aiter__()
    assert await next_events(stream, 2) == [("ADDED", "b"), ("DELETED", "a")]
    await stream.aclose()


async def test_label_selector_watch_sees_objects_enter_and_leave(client):
    cms = client.resource("ConfigMap")
    since = (await cms.list()).metadata.resource_version
    stream = cms.watch(label_selector="app=web", resource_version=since).__aiter__()
    c = await cms.create(configmap("c", labels={"app": "db"}))
    c.metadata.labels["app"] = "web"
    c = await cms.update(c)
    c.metadata.labels["app"] = "db"
    await cms.update(c)
    assert await next_events(stream, 2) == [("ADDED", "c"), ("DELETED", "c")]
    await stream.aclose()


async def test_field_selector_on_node_name(client):
    pods = client.resource("Pod")
    await pods.create(pod("on1", node_name="node1"))
    await pods.create(pod("on2", node_name="node2"))
    listing = await pods.list(field_selector="spec.nodeName=node1")
    assert [p.metadata.name for p in listing.items] == ["on1"]
    listing = await pods.list(field_selector="spec.nodeName!=node1,metadata.namespace=default")
    assert [p.metadata.name for p in listing.items] == ["on2"]
    with pytest.raises(errors.Invalid, match="spec.bogus"):
        await pods.list(field_selector="spec.bogus=1")


async def test_bad_label_selector_is_invalid(client):
    with pytest.raises(errors.Invalid):
        await client.resource("Pod").list(label_selector="a in (")


async def test_list_pages_with_limit_and_continue(client):
    cms = client.resource("ConfigMap")
    for i in range(25):
        await cms.create(configmap(f"c{i:02d}", labels={"even": str(i % 2 == 0).lower()}))
    seen, token, pages = [], "", 0
    while True:
        page = await cms.list(namespace="default", limit=10, continue_token=token)
        pages += 1
        seen += [c.metadata.name for c in page.items]
        token = page.metadata.continue_token
        if not token:
            break
    assert seen == [f"c{i:02d}" for i in range(25)] and pages == 3
    # Pages are a snapshot: a write between pages does not show up in later pages.
    first = await cms.list(namespace="default", limit=10)
    await cms.create(configmap("zz-late"))
    rest = await cms.list(namespace="default", limit=100, continue_token=first.metadata.continue_token)
    assert "zz-late" not in [c.metadata.name for c in rest.items]
    # Selectors still apply, page by page.
    evens = await cms.list(namespace="default", label_selector="even=true", limit=5)
    assert len(evens.items) == 5 and all(c.metadata.labels["even"] == "true" for c in evens.items)


async def test_watch_too_old_revision_is_gone(apiserver, client):
    cms = client.resource("ConfigMap")
    first = await cms.create(configmap("a"))
    for i in range(5):
        await cms.create(configmap(f"b{i}"))
    await apiserver.store.compact(int(first.metadata.resource_version) + 3)
    # The cache's window still reaches back; a store-read list at the old revision does not.
    with pytest.raises(errors.Gone):
        await cms.list(resource_version=first.metadata.resource_version, limit=1)


async def test_watch_before_cache_window_is_gone(tmp_path):
    async with running_apiserver(tmp_path / "data", watch_history=3) as server:
        async with admin_client(server) as client:
            cms = client.resource("ConfigMap")
            first = await cms.create(configmap("a"))
            for i in range(5):
                await cms.create(configmap(f"b{i}"))
            with pytest.raises(errors.Gone, match="too old resource version"):
                async for _ in cms.watch(resource_version=first.metadata.resource_version):
                    pass


async def test_bookmarks_carry_progress_of_other_kinds(tmp_path):
    async with running_apiserver(tmp_path / "data", bookmark_seconds=0.2) as server:
        async with admin_client(server) as client:
            cms = client.resource("ConfigMap")
            created = await cms.create(configmap("a"))
            secret = await client.resource("Secret").create(
                client.resource("Secret").kind.new(metadata={"name": "s"}))

            async def bookmark_past_secret():
                async for event in cms.watch(resource_version=created.metadata.resource_version,
                                             bookmarks=True):
                    rv = int(event.object.metadata.resource_version)
                    if event.type == "BOOKMARK" and rv >= int(secret.metadata.resource_version):
                        return rv
            # The secret's write moved the store on; the configmap watch learns it from a bookmark.
            assert await asyncio.wait_for(bookmark_past_secret(), 10)


async def test_the_server_compacts_old_history(tmp_path):
    async with running_apiserver(tmp_path / "data", compaction_seconds=0.3) as server:
        async with admin_client(server) as client:
            cms = client.resource("ConfigMap")
            first = await cms.create(configmap("a"))
            await cms.create(configmap("b"))
            await asyncio.sleep(1.0)  # a few rounds: history up to the older rounds is compacted
            with pytest.raises(errors.Gone):
                await cms.list(resource_version=first.metadata.resource_version, limit=1)
            assert [c.metadata.name for c in (await cms.list(namespace="default")).items] == ["a", "b"]
