"""Runtime tests run on the session's private dockerd (tests/support/docker_fixtures.py)."""
import uuid

import pytest

from agent.runtime.types import PodRef


@pytest.fixture
def pod():
    """A fresh pod identity per test."""
    uid = str(uuid.uuid4())
    return PodRef(uid=uid, namespace="default", name=f"p-{uid[:8]}")
