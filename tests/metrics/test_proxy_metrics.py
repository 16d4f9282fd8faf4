"""The proxy's syncs, in a network namespace of the test's own, show on a /metrics endpoint
served in this process (endpoint.py, as `cox agent` serves it)."""
import asyncio

import pytest

from agent.proxy.applier import NetlinkApplier
from agent.proxy.model import ProxyState
from agent.proxy.names import table_name
from agent.proxy.proxier import Proxier
from controlplane.metrics import endpoint
from tests.metrics.scrape import fetch, scrape
from tests.support.netns import Lab, unique_name
from tests.support.polling import eventually


@pytest.fixture
def node():
    """Made outside the event loop: pyroute2's synchronous calls run a loop of their own."""
    with Lab() as lab:
        yield lab.netns("node")


async def test_syncs_are_timed_and_the_rules_counted(node):
    proxier = Proxier(table=table_name(unique_name("node")), applier=NetlinkApplier(netns=node.name))
    served = await endpoint.start("127.0.0.1:0", default="")
    url = f"http://{served.address}/metrics"
    before = await scrape(url)   # taken before run(): its first sync, at once, is a full one
    task = asyncio.create_task(proxier.run())
    try:
        proxier.update(ProxyState(node_ips=frozenset({"198.18.0.1"})))

        async def synced(kind, since):
            page = await scrape(url)
            moved = page.value("kubeproxy_sync_proxy_rules_duration_seconds_count", sync=kind) - since.value(
                "kubeproxy_sync_proxy_rules_duration_seconds_count", sync=kind)
            return moved >= 1 and page
        full = await eventually(lambda: synced("full", before), what="a full sync")
        assert full.value("kubeproxy_sync_proxy_rules_nftables_total") > 10   # base chains, maps, rules
        assert full.value("kubeproxy_sync_proxy_rules_last_timestamp_seconds") > before.value(
            "kubeproxy_sync_proxy_rules_last_timestamp_seconds")

        proxier.update(ProxyState(node_ips=frozenset({"198.18.0.1"})), changed=())
        await eventually(lambda: synced("partial", full), what="a partial sync")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await served.stop()


async def test_the_endpoint_serves_only_metrics():
    served = await endpoint.start("127.0.0.1:0", default="")
    try:
        code, _ = await fetch(f"http://{served.address}/")
        assert code == 404
    finally:
        await served.stop()
