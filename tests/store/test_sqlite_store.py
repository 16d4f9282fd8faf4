"""What only the SQLite backend promises: durability, group commit, one owner per file."""
import asyncio
import os
import pathlib
import signal
import subprocess
import sys

import pytest

from controlplane.store import Event, StoreError
from controlplane.store import sqlite as sqlite_store
from controlplane.store.sqlite import SQLiteStore

CHECKOUT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
async def store(tmp_path):
    s = await SQLiteStore.open(str(tmp_path / "state.db"), progress_interval=3600)
    try:
        yield s
    finally:
        await s.close()


async def test_acknowledged_writes_survive_kill_9(tmp_path):
    """A writer process prints each acknowledged write; SIGKILL it mid-stream; all are there."""
    path = str(tmp_path / "state.db")
    writer = subprocess.Popen(
        [sys.executable, str(CHECKOUT / "tests/store/crash_writer.py"), path, "16"],
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(CHECKOUT)})
    output = b""
    try:
        while output.count(b"\n") < 500:  # let it get well into the stream
            line = writer.stdout.readline()
            assert line, f"writer exited early with {writer.wait()}"
            output += line
    finally:
        writer.send_signal(signal.SIGKILL)
        output += writer.stdout.read()  # what it printed before the signal landed
        writer.wait()
    assert writer.returncode == -signal.SIGKILL
    acknowledged = [line.split() for line in output.decode().split("\n")[:-1]]  # drop a cut line

    store = await SQLiteStore.open(path)
    try:
        for key, revision in acknowledged:
            kv = await store.get(key)
            assert kv is not None and (kv.value, kv.mod_revision) == (key.encode(), int(revision)), key
        newest = max(int(revision) for _, revision in acknowledged)
        assert await store.current_revision() >= newest
        assert (await store.put("/after-restart", b"x", expect_mod_revision=0)).revision > newest
    finally:
        await store.close()


async def test_concurrent_writes_share_commits(store):
    await store.put("/warm-up", b"x", expect_mod_revision=None)
    commits, writes = store.commits, store.writes
    results = await asyncio.gather(*(store.put(f"/k/{i}", b"v", expect_mod_revision=0) for i in range(64)))
    assert all(r.succeeded for r in results)
    assert store.writes - writes >= 64
    assert store.commits - commits <= (store.writes - writes) // 4, (store.commits - commits)


async def test_conditional_writes_in_one_commit_see_each_other(store):
    """Two creates of one key in the same batch: the second sees the first and fails."""
    commits = store.commits
    first, second = await asyncio.gather(store.put("/k", b"1", expect_mod_revision=0),
                                         store.put("/k", b"2", expect_mod_revision=0))
    assert store.commits - commits <= 1 + 1  # at most one extra commit, e.g. the lease reaper's
    assert first.succeeded and not second.succeeded and second.current.value == b"1"


async def test_data_survives_reopen_and_one_process_owns_the_file(tmp_path):
    path = str(tmp_path / "state.db")
    store = await SQLiteStore.open(path)
    try:
        written = await store.put("/k", b"v", expect_mod_revision=0)
        with pytest.raises(StoreError, match="in use"):
            await SQLiteStore.open(path)
    finally:
        await store.close()
    store = await SQLiteStore.open(path)
    try:
        assert (await store.get("/k")).mod_revision == written.revision
        assert await store.current_revision() == written.revision
    finally:
        await store.close()


async def test_request_progress_is_answered_at_once(store):
    """The idle-progress timer is an hour here, so the PROGRESS must come from the request."""
    watch = await store.watch("/quiet/", start_revision=1)
    try:
        await store.put("/elsewhere", b"x", expect_mod_revision=None)
        await watch.request_progress()
        async with asyncio.timeout(5):
            event = await anext(aiter(watch))
        assert (event.type, event.revision) == (Event.PROGRESS, await store.current_revision())
    finally:
        await watch.close()


async def test_a_watch_that_falls_behind_catches_up_from_the_log(store, monkeypatch):
    monkeypatch.setattr(sqlite_store, "WATCH_BUFFER", 10)
    monkeypatch.setattr(sqlite_store, "HISTORY_PAGE", 7)
    watch = await store.watch("/w/", start_revision=1)
    try:
        results = [await store.put(f"/w/{i % 5}", b"%d" % i, expect_mod_revision=None) for i in range(60)]
        async with asyncio.timeout(10):
            events = [await anext(aiter(watch)) for _ in range(60)]
        assert [e.revision for e in events] == [r.revision for r in results]
        assert [e.kv.value for e in events] == [b"%d" % i for i in range(60)]
        assert [e.prev.value if e.prev else None for e in events] == [None] * 5 + [
            b"%d" % i for i in range(55)]
    finally:
        await watch.close()
