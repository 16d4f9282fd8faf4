"""The dashboard in a real browser: Debian's headless Chromium, driven over the DevTools protocol, signs in
with a token and shows a pod created after the page loaded, without a reload. A screenshot is kept."""
import json
import os
import pathlib
import time

import pytest

from tests.dashboard.browser import Chromium
from tests.dashboard.conftest import pod_manifest

# Where the screenshot is kept after the run (tests/run.sh's callers collect it); printed by the test.
ARTIFACTS = pathlib.Path(os.environ.get("COXSWAIN_TEST_ARTIFACTS", "/tmp/coxswain-test-artifacts"))


def _js(value) -> str:
    return json.dumps(value)


async def _sign_in(page, token: str) -> None:
    await page.evaluate(f"document.getElementById('token').focus()")
    await page.send("Input.insertText", text=token)
    await page.evaluate("document.getElementById('signin').click()")


@pytest.fixture
async def node(rest):
    """A Node object with room for pods, so the scheduler binds to it; no agent runs it. Removed after."""
    name = f"dash-node-{int(time.time())}"
    await rest.call("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                                              "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"}}})
    yield name
    await rest.call("DELETE", f"/api/v1/nodes/{name}", ok=False)


async def test_dashboard_shows_a_new_pod_live_and_its_trace(server, rest, node, tmp_path):
    url = f"{rest.base}/dashboard/"
    cert = (server.data_dir / "tls" / "server.crt").read_bytes()
    async with Chromium(tmp_path / "profile", trust=cert) as browser:
        page = await browser.page()
        await page.send("Page.navigate", url=url)
        await page.wait_for("document.readyState === 'complete' && !document.getElementById('login').hidden",
                            timeout=20)

        await _sign_in(page, "not-a-token")
        assert "did not accept" in await page.wait_for(
            "document.getElementById('login-error').textContent", timeout=10)

        await _sign_in(page, rest.admin_token)
        await page.wait_for("document.getElementById('status').textContent === 'live' && "
                            "!!document.querySelector('[data-service=\"default/kubernetes\"]')", timeout=15)
        assert await page.evaluate("sessionStorage.length") == 1
        assert await page.evaluate("document.cookie") == ""
        # A mark only this page load carries: a reload would drop it.
        await page.evaluate("window.loadedOnce = performance.timeOrigin")
        origin = await page.evaluate("window.loadedOnce")

        # The node's usage report, as its agent writes it (tests/metrics covers a real agent's).
        name = f"live-{int(time.time())}"
        await rest.call("POST", "/apis/metrics.coxswain.io/v1beta1/nodemetrics", {
            "apiVersion": "metrics.coxswain.io/v1beta1", "kind": "NodeMetrics", "metadata": {"name": node},
            "timestamp": "2026-01-01T00:00:00Z", "window": "15s", "usage": {"cpu": "500m", "memory": "1Gi"}})
        usage = f"document.querySelector('[data-node=\"{node}\"]').children[2].textContent"
        await page.wait_for(f"!!document.querySelector('[data-node=\"{node}\"]') && {usage}.includes('%')",
                            timeout=5)
        assert (await page.evaluate(usage)).strip() == "500m (25%)"

        await rest.call("POST", "/api/v1/namespaces/default/pods", pod_manifest(name))
        created = time.monotonic()
        row = f"document.querySelector('[data-pod=\"default/{name}\"]')"
        await page.wait_for(f"!!{row}", timeout=5)
        shown_after = time.monotonic() - created
        assert await page.evaluate("window.loadedOnce") == origin
        # The scheduler binds it to the node: the row moves under that node, still without a reload.
        await page.wait_for(f"{row} && {row}.closest('[data-pods-of]').dataset.podsOf === {_js(node)}", timeout=10)
        assert await page.evaluate(f"{row}.children[2].textContent") == "Pending"   # no agent runs it

        await page.evaluate(f"{row}.click()")
        await page.wait_for(f"document.getElementById('trace').textContent.includes("
                            f"{_js(f'Created: pod default/{name} stored')}) && "
                            f"document.getElementById('trace').textContent.includes('Scheduled: Successfully assigned')",
                            timeout=10)

        shot = await page.screenshot(ARTIFACTS / f"dashboard-{name}.png")
        print(f"dashboard screenshot: {shot} (pod shown {shown_after:.2f}s after its create)")

        await rest.call("DELETE", f"/api/v1/namespaces/default/pods/{name}")   # waits for a kubelet: none
        await page.wait_for(f"{row}.children[2].textContent === 'Terminating'", timeout=10)
        await rest.call("DELETE", f"/api/v1/namespaces/default/pods/{name}?gracePeriodSeconds=0")
        await page.wait_for(f"!{row}", timeout=10)
        assert await page.evaluate("window.loadedOnce") == origin
        await page.close()
