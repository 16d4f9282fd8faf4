"""`cox agent --disable-proxy --disable-cluster-dns` in a local cluster's node: only the pod network is made.

(--disable-pod-network is what every `cox agent` in tests/kubelet runs with, in the host's namespace,
which tests/conftest.py checks is left without any of the agent's networking.)
"""
import asyncio

import pytest

from tests.e2e.workloads import pod
from tests.support.cluster import local_cluster
from tests.support.nodestate import agent_objects, docker_user_rules
from tests.support.polling import eventually

@pytest.fixture
def cluster():
    """(`up` runs its own event loop, so it cannot run inside an async test.)"""
    with local_cluster(nodes=1, agent_args=("--disable-proxy", "--disable-cluster-dns")) as running:
        yield running


async def test_a_disabled_part_makes_nothing(cluster):
    pod_network = {"nft table ip coxswain-network", "link cox0", *docker_user_rules(cluster.state.cluster_cidr)}

    async def pod_network_made():
        return pod_network <= await asyncio.to_thread(agent_objects, cluster.netns("node1"))
    await eventually(pod_network_made, timeout=30, what="the pod network's objects")
    await asyncio.sleep(2)   # time to make what should not be made, if it were going to be
    assert agent_objects(cluster.netns("node1")) == pod_network
    assert "; pod network\n" in cluster.log("node1-agent")
    async with cluster.client() as client:   # cox trace's question: this node has no proxy to answer it
        await client.resource("Pod").create(pod("idle", node="node1"))
        rules = await client.resource("Pod").proxy_rules("idle")
    assert [(n.node, n.reached, n.error) for n in rules.nodes] == \
        [("node1", False, "FAILED_PRECONDITION: this node runs no Service proxy")]
