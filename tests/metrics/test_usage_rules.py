"""The usage arithmetic, and the API's rules for NodeMetrics and PodMetrics: who may write them
(a node: itself and the pods bound to it) and what they may say."""
import pytest

from agent.kubelet import usage
from agent.runtime.stats import from_docker
from controlplane.api.kinds import KINDS
from controlplane.client import Client
from controlplane.client.errors import Forbidden, Invalid
from tests.support.control_plane import node_config

PROC_STAT = "cpu  1000 50 250 9000 100 10 20 30 0 0\ncpu0 500 25 125 4500 50 5 10 15 0 0\n"
MEMINFO = "MemTotal:       8000000 kB\nMemFree:        1000000 kB\nMemAvailable:   6000000 kB\n"


def test_rates_and_the_nodes_counters():
    assert usage.cores(10.0, 100.0, 12.5, 105.0) == 0.5
    assert usage.cores(10.0, 100.0, 5.0, 105.0) is None          # the counter went back: a restarted container
    busy_jiffies = 1000 + 50 + 250 + 10 + 20 + 30                 # idle and iowait left out
    assert usage.node_cpu_seconds(PROC_STAT) == busy_jiffies / usage.CLOCK_TICKS
    assert usage.node_memory_bytes(MEMINFO) == 2_000_000 * 1024
    assert usage.usage(0.25, 64 * 1024 * 1024) == {"cpu": "250000000n", "memory": "65536Ki"}


def test_the_working_set_leaves_the_inactive_file_cache_out():
    v2 = {"cpu_stats": {"cpu_usage": {"total_usage": 3_000_000_000}},
          "memory_stats": {"usage": 50_000_000, "stats": {"inactive_file": 20_000_000}}}
    v1 = {"cpu_stats": {"cpu_usage": {"total_usage": 0}},
          "memory_stats": {"usage": 50_000_000, "stats": {"total_inactive_file": 45_000_000}}}
    assert from_docker(v2, at=1.0).cpu_seconds == 3.0 and from_docker(v2, at=1.0).memory_bytes == 30_000_000
    assert from_docker(v1, at=1.0).memory_bytes == 5_000_000
    assert from_docker({}, at=1.0).memory_bytes == 0   # a container that just stopped answers empty


def pod(name: str, node: str):
    return KINDS["Pod"].new(metadata={"name": name, "namespace": "default"},
                            spec={"node_name": node, "containers": [{"name": "c", "image": "busybox"}]})


def measured(kind: str, name: str, **fields):
    metadata = {"name": name, "namespace": "default"} if kind == "PodMetrics" else {"name": name}
    return KINDS[kind].new(metadata=metadata, timestamp={"seconds": 1_700_000_000}, window="15s", **fields)


async def test_a_node_reports_only_itself_and_its_own_pods(apiserver, client):
    await client.resource("Pod").create(pod("mine", "n1"))
    await client.resource("Pod").create(pod("theirs", "n2"))
    async with Client(await node_config(apiserver, "n1")) as node:
        await node.resource("NodeMetrics").create(measured("NodeMetrics", "n1", usage={"cpu": "1n"}))
        await node.resource("PodMetrics").create(measured("PodMetrics", "mine", containers=[{"name": "c"}]))
        with pytest.raises(Forbidden, match="may only report the usage of itself"):
            await node.resource("NodeMetrics").create(measured("NodeMetrics", "n2"))
        with pytest.raises(Forbidden, match="may only report the usage of itself"):
            await node.resource("PodMetrics").create(measured("PodMetrics", "theirs"))
        with pytest.raises(Forbidden):
            await node.resource("PodMetrics").list(namespace="default")
    names = {m.metadata.name for m in (await client.resource("PodMetrics").list(namespace="default")).items}
    assert names == {"mine"}


@pytest.mark.parametrize("fields, field", [
    ({"window": "soon"}, "window"),
    ({"usage": {"gpu": "1"}}, "usage[gpu]"),
    ({"usage": {"cpu": "lots"}}, "usage[cpu]"),
])
async def test_what_a_usage_report_may_say(client, fields, field):
    obj = measured("NodeMetrics", "n1")
    for key, value in fields.items():
        if key == "usage":
            obj.usage.update(value)
        else:
            setattr(obj, key, value)
    with pytest.raises(Invalid, match=field.replace("[", r"\[").replace("]", r"\]")):
        await client.resource("NodeMetrics").create(obj)
    assert not (await client.resource("NodeMetrics").list()).items
