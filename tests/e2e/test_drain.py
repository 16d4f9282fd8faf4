"""Draining a real node against a PodDisruptionBudget: kubectl's own budget (`kubectl create
poddisruptionbudget web --selector=app=web --min-available=2 --dry-run=client -o yaml`, applied unchanged with
`cox apply`) holds both replicas of a Deployment on the node being drained — `cox drain` and the real
`kubectl drain` stop there and fail on their timeout — and once a third replica lets the budget allow one
disruption, `cox drain` empties the node onto the others; `kubectl drain` then empties another node the same
way. A watch on the pods checks that at no moment fewer than 2 were ready.

The scenario is made deterministic by cordoning the other nodes while the Deployment first rolls out, so
both pods start on the node to drain.
"""
import asyncio
import subprocess
import time

from controlplane.api.kinds import KINDS
from controlplane.apiserver.rest import kubeconfig
from controlplane.api.disruption import FINISHED
from controlplane.cli.node_cmd import MIRROR_ANNOTATION, set_unschedulable
from controlplane.client.errors import NotFound
from controlplane.controllers import pods as podutil
from tests.e2e.workloads import deployment
from tests.support.census import PodCensus
from tests.support.control_plane import cox_command
from tests.support.objects import modify
from tests.support.polling import eventually

BUDGET_REFUSAL = "Cannot evict pod as it would violate the pod's disruption budget"


def _run(argv: list[str], *, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)


async def test_drain_stops_at_a_disruption_budget_and_goes_on_once_it_allows_one(cluster, tmp_path):
    namespace = f"drain-{int(time.time())}"
    target, *others = cluster.nodes
    config = str(cluster.info.config)
    kubectl = ["kubectl", "--kubeconfig", str(cluster.layout.server_dir / kubeconfig.FILE_NAME),
               "--cache-dir", str(tmp_path / "kube-cache")]
    budget = _run(["kubectl", "create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=2",
                   "--dry-run=client", "-o", "yaml"]).stdout
    async with cluster.client() as client:
        nodes, pods = client.resource("Node"), client.resource("Pod")
        deployments, budgets = client.resource("Deployment"), client.resource("PodDisruptionBudget")

        async def web_pods():
            listed = (await pods.list(namespace=namespace, label_selector="app=web")).items
            return [p for p in listed if podutil.is_active(p)]

        async def ready_on(count: int, *, where):
            found = await web_pods()
            ready = [p for p in found if podutil.is_ready(p) and where(p.spec.node_name)]
            return found if len(found) == len(ready) == count else None

        async def orphan(pod) -> bool:
            owner = next((o for o in pod.metadata.owner_references if o.controller), None)
            if owner is None:
                return MIRROR_ANNOTATION not in pod.metadata.annotations
            if owner.kind != "DaemonSet":
                return False
            try:
                await client.resource("DaemonSet").get(owner.name, namespace=pod.metadata.namespace)
                return False
            except NotFound:
                return True

        async def no_bare_pods(node: str) -> bool:
            """kubectl drain refuses a node with pods no controller manages, or whose DaemonSet is gone
            (without --force): wait for those another test just deleted to leave."""
            listed = (await pods.list(field_selector=f"spec.nodeName={node}")).items
            return not [p for p in listed if p.status.phase not in FINISHED and await orphan(p)]

        await client.resource("Namespace").create(KINDS["Namespace"].new(metadata={"name": namespace}))
        try:
            for node in others:
                await set_unschedulable(client, node, True)
            await deployments.create(deployment("web", replicas=2, namespace=namespace))
            await eventually(lambda: ready_on(2, where=lambda n: n == target), timeout=120, interval=1,
                             what="both web pods ready on the node to drain")
            for node in others:
                await set_unschedulable(client, node, False)
            applied = await asyncio.to_thread(_run, cox_command("apply", "-n", namespace, "-f", "-", "--config",
                                                                config), stdin=budget)
            assert (applied.returncode, applied.stdout) == (0, "poddisruptionbudget.policy/web created\n"), \
                applied.stderr

            async def budget_allows(allowed: int):
                found = await budgets.get("web", namespace=namespace)
                return found.status.disruptions_allowed == allowed and found.status.current_healthy >= 2
            await eventually(lambda: budget_allows(0), timeout=30, what="the budget counted: no disruption")
            shown = await asyncio.to_thread(_run, [*kubectl, "get", "pdb", "web", "-n", namespace, "--no-headers"])
            assert shown.stdout.split()[:4] == ["web", "2", "N/A", "0"], shown.stderr

            for node in cluster.nodes:
                await eventually(lambda n=node: no_bare_pods(n), timeout=60, what=f"no bare pods on {node}")
            async with PodCensus(client, "app=web", namespace=namespace) as census:
                # Both drains stop at the budget: the pods stay where they are, and each command fails.
                stopped = await asyncio.to_thread(_run, [*kubectl, "drain", target, "--ignore-daemonsets",
                                                         "--timeout=12s"])
                assert stopped.returncode != 0 and BUDGET_REFUSAL in stopped.stderr, stopped.stderr
                stopped = await asyncio.to_thread(_run, cox_command("drain", target, "--ignore-daemonsets",
                                                                    "--timeout=12s", "--config", config))
                assert stopped.returncode == 1, stopped.stderr
                assert f"drain {target}: timed out evicting pod {namespace}/web-" in stopped.stderr
                assert f"{BUDGET_REFUSAL}. The disruption budget web needs 2 healthy pods and has 2 currently" \
                    in stopped.stderr
                assert (await nodes.get(target)).spec.unschedulable
                assert await ready_on(2, where=lambda n: n == target), "a pod left the node against the budget"

                # A third replica (on another node: the target is cordoned) lets the budget allow one
                # disruption at a time; the drain now completes.
                def grow(found):
                    found.spec.replicas = 3
                await modify(deployments, "web", grow, namespace=namespace)
                await eventually(lambda: budget_allows(1), timeout=90, interval=1, what="the budget allowing one")
                drained = await asyncio.to_thread(_run, cox_command("drain", target, "--ignore-daemonsets",
                                                                    "--timeout=120s", "--config", config),
                                                  timeout=180)
                assert drained.returncode == 0, drained.stderr
                assert drained.stdout.splitlines()[-1] == f"node/{target} drained"
                assert drained.stdout.count("pod/web-") == 2   # both evicted
                moved = await eventually(lambda: ready_on(3, where=lambda n: n in others), timeout=120,
                                         interval=1, what="3 ready web pods off the drained node")
                assert (await nodes.get(target)).spec.unschedulable

                # The real kubectl drains the busiest other node the same way, onto the uncordoned target.
                await set_unschedulable(client, target, False)
                busiest = max(others, key=lambda n: sum(p.spec.node_name == n for p in moved))
                drained = await asyncio.to_thread(_run, [*kubectl, "drain", busiest, "--ignore-daemonsets",
                                                         "--timeout=120s"], timeout=180)
                assert drained.returncode == 0, drained.stderr
                assert f"node/{busiest} drained" in drained.stdout
                await eventually(lambda: ready_on(3, where=lambda n: n != busiest), timeout=120, interval=1,
                                 what="3 ready web pods off the node kubectl drained")
            assert census.min_ready >= 2, f"only {census.min_ready} web pods were ready at one moment"

            async def deployment_ready():
                web = await deployments.get("web", namespace=namespace)
                return (web.status.ready_replicas, web.status.updated_replicas, web.status.replicas) == (3, 3, 3)
            await eventually(deployment_ready, timeout=60, what="the Deployment Ready with 3 replicas")
        finally:
            for node in cluster.nodes:
                await set_unschedulable(client, node, False)
            await client.resource("Namespace").delete(namespace)
