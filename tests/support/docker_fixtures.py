"""Fixtures for tests that talk to a Docker Engine: one private dockerd per session with the busybox
test image, a low-level docker-py client of it, and our Runtime on it (registered in tests/conftest.py)."""
import contextlib

import docker
import pytest

from agent.runtime import Runtime, labels
from tests.support.dockerd import PrivateDockerd
from tests.support.images import BUSYBOX_IMAGE, ensure_busybox


@pytest.fixture(scope="session")
def dockerd():
    with PrivateDockerd(prefix="coxt") as daemon:
        ensure_busybox(daemon.client())
        yield daemon


@pytest.fixture
def api(dockerd):
    with dockerd.client() as client:
        yield client


@pytest.fixture
def image():
    return BUSYBOX_IMAGE


@pytest.fixture
async def runtime(dockerd, api):
    """Our Runtime; every container it labelled is removed after the test, whatever the test left."""
    rt = await Runtime.connect(dockerd.base_url)
    try:
        yield rt
    finally:
        rt.close()
        for row in api.containers(all=True, filters={"label": labels.managed_filter()}):
            with contextlib.suppress(docker.errors.APIError):
                api.remove_container(row["Id"], force=True)
