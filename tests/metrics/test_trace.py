"""`cox trace pod/NAME` on a real cluster (server, scheduler, controllers; a kubelet on a real dockerd):
the pod's steps through every component, in order."""
import asyncio
import subprocess

from controlplane.api import convert
from tests.support.control_plane import cox_command, cox_env
from tests.support.images import BUSYBOX_IMAGE
from tests.support.polling import eventually


async def test_a_deployments_pod_is_traced_from_creation_to_its_endpoints(server, reporting_agent, tmp_path):
    async with server.client() as client:
        await client.resource("Deployment").create(convert.from_manifest({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"automountServiceAccountToken": False, "terminationGracePeriodSeconds": 0,
                         "containers": [{"name": "main", "image": BUSYBOX_IMAGE, "command": ["sleep", "3600"]}]}}}}))
        await client.resource("Service").create(convert.from_manifest({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}))

        async def ready_pod():
            for pod in (await client.resource("Pod").list(namespace="default")).items:
                if any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions):
                    return pod
        pod = await eventually(ready_pod, timeout=60, what="the deployment's pod Ready")

        async def endpoints_listed():
            found = await client.resource("Endpoints").get("web", namespace="default")
            return any(a.target_ref.name == pod.metadata.name for s in found.subsets for a in s.addresses)
        await eventually(endpoints_listed, timeout=30, what="the pod in Endpoints web")

    home = tmp_path / "trace-home"
    home.mkdir()
    done = await asyncio.to_thread(subprocess.run, cox_command("trace", f"pod/{pod.metadata.name}"),
                                   capture_output=True, text=True, timeout=60,
                                   env=dict(cox_env(home), COX_CONFIG=str(server.config_path)))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"pod default/{pod.metadata.name} on node node1, phase Running"
    assert lines[1].split() == ["TIME", "SINCE", "COMPONENT", "WHAT"]
    steps = [line.split(None, 3) for line in lines[2:]]

    def first(component: str, what: str) -> int:
        return next(i for i, s in enumerate(steps) if s[2] == component and s[3].split(None, 1)[-1].startswith(what)
                    or s[2] == component and what in s[3])
    created = first("api-server", "Created: pod")
    made = first("replicaset-controller", "SuccessfulCreate")
    scheduled = first("default-scheduler", "Scheduled")
    started = first("kubelet", "Started")
    ready = next(i for i, s in enumerate(steps) if "Ready=True" in " ".join(s))
    listed = next(i for i, s in enumerate(steps) if "in Endpoints web" in " ".join(s))
    assert created < scheduled < started and made < scheduled and scheduled < ready < listed, done.stdout
    assert steps[created][1] == "+0s" and steps[scheduled][1].endswith("s"), done.stdout
