"""`cox agent --cleanup`, for real: full agents run in the nodes of a local cluster (each node a network
namespace of this test's, uniquely named, with its own dockerd); once stopped, the clean-up run in a node's
namespace removes every object its agent made there, and nothing of it is left.

Two nodes, so each has a route to the other's pods. node1 runs a pod behind a Service (content for the
proxy's table; its service account token volume is a tmpfs mount under the agent's root directory), so its
pod network stays until --cleanup-pods; node2 has no pod, so plain --cleanup removes its pod network too.
"""
import asyncio
import os
import subprocess
import sys

import pytest

from agent.network.podbridge import POD_NETWORK
from agent.runtime import labels
from localcluster import procs
from tests.e2e.workloads import pod, running_pod, service
from tests.support.cluster import local_cluster
from tests.support.control_plane import REPO
from tests.support.nodestate import agent_objects, docker_user_rules
from tests.support.polling import eventually

NODE = "node1"


@pytest.fixture
def cluster():
    with local_cluster(nodes=2) as running:
        yield running


def cox_agent(*args: str, netns: str | None = None) -> subprocess.CompletedProcess:
    """`cox agent ARGS` from this checkout, in `netns` if given."""
    prefix = ["nsenter", f"--net=/run/netns/{netns}"] if netns else []
    return subprocess.run([*prefix, sys.executable, "-m", "agent.cli", "agent", *args], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO)))


def cleanup(cluster, *flags: str, node: str = NODE) -> subprocess.CompletedProcess:
    """`cox agent --cleanup` in the node's namespace, with its agent's --node-name, --docker-url, --root-dir."""
    return cox_agent("--cleanup", *flags, "--node-name", node, "--docker-url", cluster.docker_url(node),
                     "--root-dir", str(agent_root(cluster, node)), netns=cluster.netns(node))


def agent_root(cluster, node: str = NODE):
    return cluster.layout.node_dir(node) / "agent"


def made_by_an_agent(cluster, node: str, *, other_pod_cidr: str) -> set[str]:
    """What a node's full agent makes in its namespace, as nodestate.agent_objects names it."""
    return {f"nft table ip coxswain-proxy-{node}", "nft table ip coxswain-network",
            "link cox-svc-sink", f"route {cluster.state.service_cidr} dev cox-svc-sink",
            "link cox-dns", "address 169.254.20.10 on cox-dns",
            "link cox0", f"route {other_pod_cidr} proto 155", *docker_user_rules(cluster.state.cluster_cidr)}


def mounts_under(path) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(f"{path}/")]


def pod_containers(cluster) -> list[dict]:
    with cluster.docker(NODE) as api:
        return api.containers(all=True, filters={"label": labels.managed_filter()})


async def test_cleanup_removes_the_agents_networking_then_with_cleanup_pods_the_pods(cluster):
    netns = cluster.netns(NODE)
    async with cluster.client() as client:
        await client.resource("Service").create(service("web"))
        await client.resource("Pod").create(pod("web", node=NODE, pod_labels={"app": "web"}))
        await running_pod(client, "web")
        cidrs = {node.metadata.name: node.spec.pod_cidr for node in (await client.resource("Node").list()).items}
    made = {"node1": made_by_an_agent(cluster, "node1", other_pod_cidr=cidrs["node2"]),
            "node2": made_by_an_agent(cluster, "node2", other_pod_cidr=cidrs["node1"])}

    async def all_made():
        found = await asyncio.gather(*(asyncio.to_thread(agent_objects, cluster.netns(n)) for n in made))
        return dict(zip(made, found)) == made
    await eventually(all_made, timeout=30, what="the agents' objects in their namespaces")
    assert mounts_under(agent_root(cluster) / "pods"), "the pod's token volume is not a mount"

    procs.stop(cluster.state.nodes[1].agent)
    done = cleanup(cluster, node="node2")
    assert done.returncode == 0, done.stderr
    assert agent_objects(cluster.netns("node2")) == set(), "a pod network without pods goes too"
    assert f"removed Docker network {POD_NETWORK} (bridge cox0)" in done.stdout.splitlines()

    procs.stop(cluster.state.nodes[0].agent)
    done = cleanup(cluster)
    assert done.returncode == 0, done.stderr
    assert agent_objects(netns) == {"link cox0"}, "only the pod network stays, with the pod on it"
    lines = done.stdout.splitlines()
    assert f"removed nft table ip coxswain-proxy-{NODE}" in lines
    assert f"kept Docker network {POD_NETWORK}: 1 pod(s) wired to bridge cox0; " \
           f"--cleanup-pods removes the pods" in lines
    running = pod_containers(cluster)
    assert len(running) == 2 and all(c["State"] == "running" for c in running), "the pod kept running"
    assert mounts_under(agent_root(cluster) / "pods")

    done = cleanup(cluster, "--cleanup-pods")
    assert done.returncode == 0, done.stderr
    assert agent_objects(netns) == set()
    assert pod_containers(cluster) == []
    assert mounts_under(agent_root(cluster)) == [] and not any((agent_root(cluster) / "pods").iterdir())
    with cluster.docker(NODE) as api:
        assert api.networks(names=[POD_NETWORK]) == []
    assert f"removed Docker network {POD_NETWORK} (bridge cox0)" in done.stdout.splitlines()
    released = [line for line in done.stdout.splitlines() if line.startswith("released pod address ")]
    assert len(released) == 1, "the pod's address, kept on disk by the agent, is given back"

    again = cleanup(cluster, "--cleanup-pods")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [f"{part}: nothing to remove"
                                         for part in ("pods", "proxy", "pod network", "pod network in Docker",
                                                      "cluster DNS")]

    # Docker down: that part fails, says why, and the others still run.
    blind = cox_agent("--cleanup", "--node-name", NODE, "--docker-url", "unix:///nonexistent/docker.sock",
                      netns=netns)
    assert blind.returncode == 1
    assert "does not answer (is dockerd running?)" in blind.stderr
    assert blind.stdout.splitlines() == [f"{part}: nothing to remove" for part in ("proxy", "pod network",
                                                                                   "cluster DNS")]


def test_cleanup_pods_needs_cleanup():
    done = cox_agent("--cleanup-pods")
    assert done.returncode != 0 and "--cleanup-pods goes with --cleanup" in done.stderr
