"""`cox trace pod/NAME` on the 3-node local cluster: every node's proxy says when it applied the rules for a
Deployment's pod behind a Service (pods/proxyrules, asked of every agent), after the pod was Ready; a node
whose agent is down says so in its step; a node's own identity may not ask."""
import asyncio
import re
import subprocess
import time

import grpc
import pytest

from agent.kubelet.credential import KUBELET_CONFIG
from controlplane.api.kinds import KINDS
from controlplane.client import Client, load_config
from controlplane.client import errors
from tests.e2e.workloads import deployment, service
from tests.support.control_plane import cox_command
from tests.support.polling import eventually

STEP = re.compile(r"^(\S+)\s+(\S+)\s+(kube-proxy \((\S+)\))\s+(.*)$")


def _ready_since(pod) -> int:
    return next(c.last_transition_time.seconds for c in pod.status.conditions
                if c.type == "Ready" and c.status == "True")


async def test_each_nodes_proxy_step_comes_after_the_pod_is_ready(cluster):
    namespace = f"trace-{int(time.time())}"
    async with cluster.client() as client:
        await client.resource("Namespace").create(KINDS["Namespace"].new(metadata={"name": namespace}))
        try:
            await client.resource("Deployment").create(deployment("web", replicas=1, namespace=namespace))
            await client.resource("Service").create(service("web", namespace=namespace))

            async def ready_pod():
                for pod in (await client.resource("Pod").list(namespace=namespace)).items:
                    if any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions):
                        return pod
            pod = await eventually(ready_pod, timeout=120, what="the web pod Ready")
            pods = client.resource("Pod")

            async def applied_everywhere():
                rules = await pods.proxy_rules(pod.metadata.name, namespace=namespace)
                return rules if all(n.reached and n.ports for n in rules.nodes) else None
            rules = await eventually(applied_everywhere, timeout=60, what="every node's proxy applied the rules")
            assert rules.uid == pod.metadata.uid
            assert [n.node for n in rules.nodes] == sorted(cluster.nodes)
            ready = _ready_since(pod)
            for node in rules.nodes:
                assert [(p.namespace, p.service, p.port, p.number) for p in node.ports] == \
                    [(namespace, "web", "http", 80)], node
                assert ready <= node.ports[0].programmed_at < time.time() + 1, (node, ready)

            trace = cox_command("--config", str(cluster.info.config), "trace", f"pod/{pod.metadata.name}",
                                "-n", namespace)
            done = await asyncio.to_thread(subprocess.run, trace, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            print(done.stdout)
            lines = done.stdout.splitlines()
            ready_line = next(i for i, line in enumerate(lines) if "Ready=True" in line.split())
            proxied = {m.group(4): (i, m) for i, m in ((i, STEP.match(line)) for i, line in enumerate(lines)) if m}
            assert sorted(proxied) == sorted(cluster.nodes), done.stdout
            for node, (i, m) in proxied.items():
                assert m.group(5) == f"rules applied: {namespace}/web:80 -> this pod", done.stdout
                assert i > ready_line and re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", m.group(1)), done.stdout

            # One agent down: its step says why, the others' and the rest of the trace stay.
            down = next(n for n in cluster.nodes if n != pod.spec.node_name)
            cluster.kill_agent(down)
            try:
                done = await asyncio.to_thread(subprocess.run, trace, capture_output=True, text=True, timeout=60)
            finally:
                cluster.start_agent(down)
            assert done.returncode == 0, done.stderr
            steps = {m.group(4): m for m in map(STEP.match, done.stdout.splitlines()) if m}
            assert steps[down].group(1) == "-" and steps[down].group(5).startswith("no answer: "), done.stdout
            assert all(steps[n].group(5).startswith("rules applied: ") for n in cluster.nodes if n != down), \
                done.stdout
            await eventually(applied_everywhere, timeout=60, what=f"{down}'s agent back, its proxy synced")

            with pytest.raises(errors.NotFound):
                await pods.proxy_rules("no-such-pod", namespace=namespace)
            with pytest.raises(errors.Invalid, match="name: required"):
                await pods.proxy_rules("", namespace=namespace)

            node = cluster.nodes[0]
            async with Client(load_config(cluster.layout.node_dir(node) / "agent" / KUBELET_CONFIG)) as as_node:
                with pytest.raises(errors.Forbidden, match=f'node "{node}" may not proxyrules pods') as refused:
                    await as_node.resource("Pod").proxy_rules(pod.metadata.name, namespace=namespace)
                assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
        finally:
            await client.resource("Namespace").delete(namespace)
