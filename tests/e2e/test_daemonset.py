"""A DaemonSet on real agents: its pods run in each eligible node's dockerd, a node that becomes eligible
after the DaemonSet was made gets its pod, and one that stops being eligible loses it.

`cox local` cannot add a node to a running cluster, so the node that joins the DaemonSet late is one
labelled for it late (the DaemonSet selects nodes by a label): to the controller that is the same event,
a node it did not cover before and now must. The manifest is kubectl's (tests/api/testdata/daemonset.yaml,
`kubectl create deployment --dry-run=client -o yaml` with the kind changed, as the Kubernetes docs
suggest) plus a nodeSelector.
"""
import pathlib

from agent.runtime import labels
from controlplane.api import convert
from controlplane.controllers import pods as podutil
from tests.support.objects import relabel_node
from tests.support.polling import eventually

MANIFEST = pathlib.Path(__file__).parents[1] / "api" / "testdata" / "daemonset.yaml"
LABEL = "e2e-logging"


def containers_on(cluster, node: str, pod) -> list:
    with cluster.docker(node) as api:
        return api.containers(filters={"label": labels.managed_filter(**{labels.POD_UID: pod.metadata.uid})})


async def test_daemon_set_covers_nodes_as_they_become_eligible(cluster):
    data = convert.load_manifests(MANIFEST.read_text())[0]
    data["spec"]["template"]["spec"]["nodeSelector"] = {LABEL: "on"}
    first, *others = cluster.nodes
    async with cluster.client() as client:
        nodes, pods, daemon_sets = client.resource("Node"), client.resource("Pod"), client.resource("DaemonSet")

        async def running_on():
            listed = await pods.list(namespace="default", label_selector="app=logs")
            return {p.spec.node_name: p for p in listed.items if podutil.is_active(p) and p.status.phase == "Running"}
        try:
            await relabel_node(nodes, first, **{LABEL: "on"})
            await daemon_sets.create(convert.from_manifest(data))
            placed = await eventually(running_on, timeout=90, what="the daemon pod running on the first node")
            assert list(placed) == [first]
            assert containers_on(cluster, first, placed[first])

            for node in others:   # nodes joining the DaemonSet after it was made
                await relabel_node(nodes, node, **{LABEL: "on"})

            async def everywhere():
                found = await running_on()
                return sorted(found) == sorted(cluster.nodes) and found
            placed = await eventually(everywhere, timeout=90, what="a daemon pod on every node")
            assert all(containers_on(cluster, n, p) for n, p in placed.items())
            ds = await daemon_sets.get("logs", namespace="default")
            assert ds.status.desired_number_scheduled == len(cluster.nodes)

            await relabel_node(nodes, others[-1], **{LABEL: None})

            async def left_the_last():
                found = await running_on()
                return sorted(found) == sorted(cluster.nodes[:-1]) and found
            await eventually(left_the_last, timeout=90, what="the pod gone from the unlabelled node")
            gone = placed[others[-1]]
            await eventually(lambda: _no_containers(cluster, others[-1], gone), timeout=60,
                             what="its containers removed from the node")
        finally:
            await daemon_sets.delete("logs", namespace="default")
            for node in cluster.nodes:
                await relabel_node(nodes, node, **{LABEL: None})


async def _no_containers(cluster, node, pod) -> bool:
    return not containers_on(cluster, node, pod)
