"""Image presence and pull policy, without any registry beyond loopback."""
import socket

import pytest

from agent.runtime.errors import ImageNeverPull, ImagePullFailed
from agent.runtime.images import default_policy, split_reference
from agent.runtime.pulls import Puller, pull_back_off


def closed_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_present_image_is_not_pulled(runtime, image, api):
    image_id, pulled = await runtime.images.ensure(image, policy="IfNotPresent")
    assert image_id == api.inspect_image(image)["Id"] and not pulled


async def test_never_policy_with_missing_image(runtime):
    with pytest.raises(ImageNeverPull):
        await runtime.images.ensure("coxswain-test/absent:1", policy="Never")


async def test_failed_pull_is_reported(runtime):
    # A registry on a loopback port nobody listens on: the pull fails fast and stays on this host.
    unreachable = f"127.0.0.1:{closed_loopback_port()}/nothing/here:1"
    with pytest.raises(ImagePullFailed, match="nothing/here"):
        await runtime.images.ensure(unreachable, policy="IfNotPresent")


def test_reference_parsing_and_default_policy():
    assert split_reference("busybox") == ("busybox", "latest")
    assert split_reference("127.0.0.1:5000/a/b:1.2") == ("127.0.0.1:5000/a/b", "1.2")
    assert split_reference("127.0.0.1:5000/a/b") == ("127.0.0.1:5000/a/b", "latest")
    assert split_reference("a@sha256:abc") == ("a", "sha256:abc")
    assert default_policy("busybox") == "Always"
    assert default_policy("busybox:latest") == "Always"
    assert default_policy("127.0.0.1:5000/busybox") == "Always"
    assert default_policy("busybox:1.36") == "IfNotPresent"
    assert default_policy("a@sha256:abc") == "IfNotPresent"


async def test_puller_backs_off_after_failed_pulls_and_follows_the_policy(runtime, image):
    """Real pulls against the private dockerd; only the back-off's clock is ours, so the test
    need not wait 10 s for it."""
    clock = [1000.0]
    puller = Puller(runtime.images, clock=lambda: clock[0])
    key = ("uid", "app")
    present = await puller.ensure(key, image, policy="IfNotPresent")
    assert present.ready and not present.pulling and "already present" in present.message
    never = await puller.ensure(key, "coxswain-test/absent:1", policy="Never")
    assert (never.ready, never.reason) == (False, "ErrImageNeverPull")
    unreachable = f"127.0.0.1:{closed_loopback_port()}/nothing/here:1"
    failed = await puller.ensure(key, unreachable, policy="IfNotPresent")
    assert (failed.ready, failed.reason, failed.pulling) == (False, "ErrImagePull", True)
    assert puller.wait_left(key) == 10.0
    clock[0] += 10.0
    assert puller.wait_left(key) == 0.0
    await puller.ensure(key, unreachable, policy="IfNotPresent")
    assert puller.wait_left(key) == 20.0, "the second failure in a row doubles the wait"
    assert [pull_back_off(n) for n in (1, 2, 3, 6, 9)] == [10.0, 20.0, 40.0, 300.0, 300.0]
    puller.forget("uid")
    assert puller.wait_left(key) == 0.0
