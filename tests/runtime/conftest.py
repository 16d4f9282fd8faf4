"""One private dockerd for the runtime tests, with the busybox test image in it."""
import contextlib
import uuid

import docker
import pytest

from agent.runtime import Runtime, labels
from agent.runtime.types import PodRef
from tests.support.dockerd import PrivateDockerd
from tests.support.images import BUSYBOX_IMAGE, ensure_busybox


@pytest.fixture(scope="session")
def dockerd():
    with PrivateDockerd(prefix="coxrt") as daemon:
        ensure_busybox(daemon.client())
        yield daemon


@pytest.fixture
def api(dockerd):
    with dockerd.client() as client:
        yield client


@pytest.fixture
async def runtime(dockerd, api):
    rt = await Runtime.connect(dockerd.base_url)
    try:
        yield rt
    finally:
        rt.close()
        for row in api.containers(all=True, filters={"label": labels.managed_filter()}):
            with contextlib.suppress(docker.errors.APIError):
                api.remove_container(row["Id"], force=True)


@pytest.fixture
def pod():
    """A fresh pod identity per test."""
    uid = str(uuid.uuid4())
    return PodRef(uid=uid, namespace="default", name=f"p-{uid[:8]}")


@pytest.fixture
def image():
    return BUSYBOX_IMAGE
