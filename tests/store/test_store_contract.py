"""The store contract (controlplane/store/__init__.py), run against SQLite and a real etcd."""
import asyncio
import random

import pytest

from controlplane.store import (CompactedError, Event, FutureRevisionError, LeaseNotFoundError)

TIMEOUT = 10.0


async def changes(watch, count, *, timeout=TIMEOUT):
    """The next `count` PUT/DELETE events of a watch (PROGRESS events skipped)."""
    got = []
    async with asyncio.timeout(timeout):
        async for event in watch:
            if event.type != Event.PROGRESS:
                got.append(event)
                if len(got) == count:
                    return got
    raise AssertionError(f"watch ended after {len(got)} of {count} events")


async def progress(watch, at_least, *, timeout=TIMEOUT):
    """Wait for a PROGRESS event at revision >= at_least; fail on any other event."""
    async with asyncio.timeout(timeout):
        async for event in watch:
            assert event.type == Event.PROGRESS, f"unexpected {event}"
            if event.revision >= at_least:
                return event


# -- revisions and conditional writes

async def test_revisions_grow_and_are_shared_by_all_keys(store, prefix):
    start = await store.current_revision()
    revisions = []
    for i in range(5):
        for key in ("a", "b", "c"):
            result = await store.put(prefix + key, b"%d" % i, expect_mod_revision=None)
            assert result.succeeded
            revisions.append(result.revision)
    assert revisions[0] > start
    assert revisions == sorted(set(revisions)), "every write gets its own, larger revision"
    assert await store.current_revision() == revisions[-1]
    kv = await store.get(prefix + "b")
    assert (kv.create_revision, kv.mod_revision, kv.version) == (revisions[1], revisions[-2], 5)


async def test_create_only(store, prefix):
    created = await store.put(prefix + "k", b"one", expect_mod_revision=0)
    assert created.succeeded
    again = await store.put(prefix + "k", b"two", expect_mod_revision=0)
    assert not again.succeeded
    assert again.revision == created.revision == await store.current_revision()
    assert again.current.value == b"one" and again.current.mod_revision == created.revision
    assert (await store.get(prefix + "k")).value == b"one"


async def test_update_if_unchanged(store, prefix):
    first = await store.put(prefix + "k", b"v1", expect_mod_revision=0)
    second = await store.put(prefix + "k", b"v2", expect_mod_revision=first.revision)
    assert second.succeeded and second.revision > first.revision
    stale = await store.put(prefix + "k", b"v3", expect_mod_revision=first.revision)
    assert not stale.succeeded and stale.revision == second.revision
    assert stale.current.value == b"v2"
    kv = await store.get(prefix + "k")
    assert (kv.value, kv.create_revision, kv.mod_revision, kv.version) == (b"v2", first.revision,
                                                                            second.revision, 2)
    missing = await store.put(prefix + "absent", b"x", expect_mod_revision=first.revision)
    assert not missing.succeeded and missing.current is None
    assert await store.get(prefix + "absent") is None
    assert await store.current_revision() == second.revision


async def test_delete_if_unchanged(store, prefix):
    first = await store.put(prefix + "k", b"v1", expect_mod_revision=0)
    second = await store.put(prefix + "k", b"v2", expect_mod_revision=None)
    stale = await store.delete(prefix + "k", expect_mod_revision=first.revision)
    assert not stale.succeeded and stale.current.value == b"v2"
    assert (await store.get(prefix + "k")).value == b"v2"
    assert await store.current_revision() == second.revision

    deleted = await store.delete(prefix + "k", expect_mod_revision=second.revision)
    assert deleted.succeeded and deleted.revision > second.revision
    assert await store.get(prefix + "k") is None

    for expect in (None, 0, second.revision):
        absent = await store.delete(prefix + "k", expect_mod_revision=expect)
        assert not absent.succeeded and absent.current is None, expect
    assert await store.current_revision() == deleted.revision

    recreated = await store.put(prefix + "k", b"v3", expect_mod_revision=0)
    kv = await store.get(prefix + "k")
    assert (kv.create_revision, kv.version) == (recreated.revision, 1)


# -- reads at a revision, pagination

async def test_get_and_range_at_older_revisions(store, prefix):
    a1 = (await store.put(prefix + "a", b"a1", expect_mod_revision=0)).revision
    b1 = (await store.put(prefix + "b", b"b1", expect_mod_revision=0)).revision
    a2 = (await store.put(prefix + "a", b"a2", expect_mod_revision=a1)).revision
    gone = (await store.delete(prefix + "b")).revision
    await store.put(prefix.rstrip("/") + "x", b"outside the prefix", expect_mod_revision=None)

    def values(result):
        return [(kv.key.removeprefix(prefix), kv.value) for kv in result.kvs]

    assert values(await store.range(prefix, revision=a1)) == [("a", b"a1")]
    assert values(await store.range(prefix, revision=b1)) == [("a", b"a1"), ("b", b"b1")]
    assert values(await store.range(prefix, revision=a2)) == [("a", b"a2"), ("b", b"b1")]
    at_gone = await store.range(prefix, revision=gone)
    assert values(at_gone) == [("a", b"a2")] and at_gone.revision == gone and at_gone.count == 1
    latest = await store.range(prefix)
    assert values(latest) == [("a", b"a2")] and latest.revision == await store.current_revision()

    assert (await store.get(prefix + "a", revision=a1)).value == b"a1"
    assert (await store.get(prefix + "b", revision=a2)).value == b"b1"
    assert await store.get(prefix + "b", revision=gone) is None
    assert await store.get(prefix + "b", revision=a1) is None

    with pytest.raises(FutureRevisionError):
        await store.range(prefix, revision=await store.current_revision() + 100)


async def test_range_pages_with_limit_and_start_after(store, prefix):
    keys = [f"{prefix}{i:03d}" for i in range(25)]
    for key in random.sample(keys, len(keys)):
        await store.put(key, key.encode(), expect_mod_revision=0)
    snapshot = await store.current_revision()

    pages, start_after = [], ""
    while True:
        page = await store.range(prefix, revision=snapshot, limit=10, start_after=start_after)
        pages.append(page)
        # writes between pages must not show in a read pinned to the snapshot
        await store.put(f"{prefix}{len(pages):03d}x", b"later", expect_mod_revision=None)
        if not page.more:
            break
        start_after = page.kvs[-1].key
    assert [len(p.kvs) for p in pages] == [10, 10, 5]
    assert [p.count for p in pages] == [25, 15, 5]
    assert [p.more for p in pages] == [True, True, False]
    assert all(p.revision == snapshot for p in pages)
    assert [kv.key for p in pages for kv in p.kvs] == keys

    everything = await store.range(prefix)
    assert everything.count == 28 and not everything.more and len(everything.kvs) == 28


# -- watch

async def test_watch_from_a_revision_delivers_every_change_once_in_order(store, prefix):
    """History and live changes from concurrent writers, with prev values, nothing else."""
    expected = {}  # revision -> (type, key, value, prev value)

    async def writer(w, rounds):
        last = {}
        for i in range(rounds):
            key = f"{prefix}w{w}/k{i % 3}"
            if key in last and i % 4 == 3:
                result = await store.delete(key, expect_mod_revision=last[key][0])
                expected[result.revision] = (Event.DELETE, key, b"", last.pop(key)[1])
            else:
                value = f"{w}-{i}".encode()
                result = await store.put(key, value, expect_mod_revision=last.get(key, (0,))[0])
                expected[result.revision] = (Event.PUT, key, value, last.get(key, (0, None))[1])
                last[key] = (result.revision, value)
            assert result.succeeded
            await store.put(f"{prefix.rstrip('/')}-other/{w}", b"noise", expect_mod_revision=None)

    start = await store.current_revision() + 1
    writers = asyncio.gather(*(writer(w, 10) for w in range(8)))
    while len(expected) < 30:  # open the watch mid-stream: part history, part live
        await asyncio.sleep(0.001)
    watch = await store.watch(prefix, start_revision=start)
    try:
        events = await changes(watch, 80)
        await writers
    finally:
        await watch.close()

    assert [e.revision for e in events] == sorted(expected), "each change once, in revision order"
    for event in events:
        kind, key, value, prev = expected[event.revision]
        assert (event.type, event.kv.key, event.kv.value, event.kv.mod_revision) == (
            kind, key, value, event.revision)
        assert (event.prev.value if event.prev else None) == prev


async def test_watch_from_a_future_revision_starts_there(store, prefix):
    await store.put(prefix + "old", b"x", expect_mod_revision=None)
    watch = await store.watch(prefix, start_revision=await store.current_revision() + 2)
    try:
        await store.put(prefix + "not-yet", b"y", expect_mod_revision=None)
        new = await store.put(prefix + "new", b"z", expect_mod_revision=None)
        [event] = await changes(watch, 1)
        assert (event.type, event.kv.key, event.revision, event.prev) == (Event.PUT, prefix + "new",
                                                                           new.revision, None)
    finally:
        await watch.close()


async def test_compaction(store, prefix):
    first = await store.put(prefix + "k", b"v1", expect_mod_revision=0)
    for i in range(2, 5):
        await store.put(prefix + "k", b"v%d" % i, expect_mod_revision=None)
    compact_at = (await store.put(prefix + "other", b"x", expect_mod_revision=None)).revision
    last = await store.put(prefix + "k", b"v5", expect_mod_revision=None)
    await store.compact(compact_at)

    for start in (first.revision, compact_at):
        with pytest.raises(CompactedError) as raised:
            watch = await store.watch(prefix, start_revision=start)
            try:
                await changes(watch, 1)
            finally:
                await watch.close()
        assert raised.value.compacted == compact_at
    with pytest.raises(CompactedError) as raised:
        await store.range(prefix, revision=first.revision)
    assert (raised.value.requested, raised.value.compacted) == (first.revision, compact_at)
    with pytest.raises(CompactedError):
        await store.get(prefix + "k", revision=compact_at - 1)
    with pytest.raises(CompactedError):
        await store.compact(compact_at)
    with pytest.raises(FutureRevisionError):
        await store.compact(last.revision + 100)
    with pytest.raises(FutureRevisionError):
        await store.get(prefix + "k", revision=last.revision + 100)

    # the compact revision itself and everything after it stay readable and watchable
    assert (await store.get(prefix + "k", revision=compact_at)).value == b"v4"
    assert [kv.key for kv in (await store.range(prefix, revision=compact_at)).kvs] == [
        prefix + "k", prefix + "other"]
    watch = await store.watch(prefix, start_revision=compact_at + 1)
    try:
        [event] = await changes(watch, 1)
        assert (event.revision, event.kv.value, event.prev.value) == (last.revision, b"v5", b"v4")
    finally:
        await watch.close()


async def test_progress_after_request_progress(store, prefix):
    watch = await store.watch(prefix, start_revision=await store.current_revision() + 1)
    try:
        for i in range(3):  # changes elsewhere move the revision; this watch sees none of them
            await store.put(f"{prefix.rstrip('/')}-elsewhere/{i}", b"x", expect_mod_revision=None)
        wanted = await store.current_revision()
        await watch.request_progress()
        assert (await progress(watch, wanted)).revision >= wanted
    finally:
        await watch.close()


async def test_idle_watch_gets_periodic_progress(store, prefix):
    await store.put(prefix.rstrip("/") + "-elsewhere", b"x", expect_mod_revision=None)
    now = await store.current_revision()
    watch = await store.watch(prefix, start_revision=now + 1)
    try:
        assert (await progress(watch, now)).kv is None
    finally:
        await watch.close()


# -- leases

async def test_lease_expiry_deletes_attached_keys(store, prefix):
    lease = await store.grant_lease(1)
    watch = await store.watch(prefix, start_revision=await store.current_revision() + 1)
    try:
        await store.put(prefix + "leased", b"v", expect_mod_revision=0, lease=lease)
        await store.put(prefix + "kept", b"v", expect_mod_revision=0)
        assert (await store.get(prefix + "leased")).lease == lease
        put_a, put_b, deleted = await changes(watch, 3, timeout=15)
        assert (deleted.type, deleted.kv.key, deleted.prev.value) == (Event.DELETE, prefix + "leased", b"v")
    finally:
        await watch.close()
    assert await store.get(prefix + "leased") is None
    assert await store.get(prefix + "kept") is not None
    with pytest.raises(LeaseNotFoundError):
        await store.keep_alive(lease)


async def test_keep_alive_holds_the_lease(store, prefix):
    lease = await store.grant_lease(1)
    await store.put(prefix + "leased", b"v", expect_mod_revision=0, lease=lease)
    for _ in range(10):  # 3 s, three times the TTL
        await store.keep_alive(lease)
        await asyncio.sleep(0.3)
    assert (await store.get(prefix + "leased")).value == b"v"


async def test_revoke_deletes_attached_keys(store, prefix):
    lease = await store.grant_lease(60)
    for key in ("a", "b"):
        await store.put(prefix + key, b"v", expect_mod_revision=0, lease=lease)
    await store.put(prefix + "c", b"v", expect_mod_revision=0)
    watch = await store.watch(prefix, start_revision=await store.current_revision() + 1)
    try:
        await store.revoke_lease(lease)
        events = await changes(watch, 2)
        assert sorted((e.type, e.kv.key) for e in events) == [(Event.DELETE, prefix + "a"),
                                                              (Event.DELETE, prefix + "b")]
    finally:
        await watch.close()
    assert [kv.key for kv in (await store.range(prefix)).kvs] == [prefix + "c"]
    with pytest.raises(LeaseNotFoundError):
        await store.revoke_lease(lease)
    with pytest.raises(LeaseNotFoundError):
        await store.put(prefix + "d", b"v", expect_mod_revision=None, lease=lease)
    assert await store.get(prefix + "d") is None
