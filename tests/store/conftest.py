"""Fixtures for the store tests: every `store` test runs on SQLite and on a real etcd."""
import uuid

import pytest

from controlplane.store import open_store
from controlplane.store.sqlite import SQLiteStore
from tests.support.etcd import EtcdServer

PROGRESS_INTERVAL = 0.2  # seconds; the test etcd uses the same (tests/support/etcd.py)


@pytest.fixture(scope="session")
def etcd_server():
    with EtcdServer(progress_interval=f"{int(PROGRESS_INTERVAL * 1000)}ms") as server:
        yield server


@pytest.fixture(params=["sqlite", "etcd"])
async def store(request, tmp_path):
    if request.param == "sqlite":
        s = await SQLiteStore.open(str(tmp_path / "state.db"), progress_interval=PROGRESS_INTERVAL)
    else:
        s = await open_store(request.getfixturevalue("etcd_server").url)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def prefix():
    """A key prefix of this test's own: one etcd serves every test of the session."""
    return f"/test-{uuid.uuid4().hex[:12]}/"
