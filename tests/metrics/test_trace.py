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
    assert any("PodReadyToStartContainers=True" in " ".join(s) for s in steps), done.stdout   # the sandbox up
    assert created < scheduled < started and made < scheduled and scheduled < ready < listed, done.stdout
    assert steps[created][1] == "+0s" and steps[scheduled][1].endswith("s"), done.stdout


async def test_a_rollout_is_traced_through_both_replica_sets(server, reporting_agent, tmp_path):
    """`cox trace deploy/NAME` after a rollout (an env change, as `kubectl set env` makes; the node has one
    image): the printed summary and both ReplicaSets' scaling, the new pods Ready."""
    manifest = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "roll", "namespace": "default"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "roll"}}, "template": {
            "metadata": {"labels": {"app": "roll"}},
            "spec": {"automountServiceAccountToken": False, "terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "main", "image": BUSYBOX_IMAGE, "command": ["sleep", "3600"],
                                     "env": [{"name": "VERSION", "value": "1"}]}]}}}}
    async with server.client() as client:
        api = client.resource("Deployment")
        await api.create(convert.from_manifest(manifest))

        async def at_revision(revision: str):
            d = await api.get("roll", namespace="default")
            return d.metadata.annotations.get("deployment.kubernetes.io/revision") == revision and \
                d.status.updated_replicas == d.status.ready_replicas == d.status.replicas == 2
        await eventually(lambda: at_revision("1"), timeout=60, what="revision 1 ready")
        manifest["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "2"
        d = await api.get("roll", namespace="default")
        d.spec.CopyFrom(convert.from_manifest(manifest).spec)
        await api.update(d)
        await eventually(lambda: at_revision("2"), timeout=60, what="revision 2 ready")

    home = tmp_path / "trace-home"
    home.mkdir()

    async def traced():
        done = await asyncio.to_thread(subprocess.run, cox_command("trace", "deploy/roll"), capture_output=True,
                                       text=True, timeout=60, env=dict(cox_env(home), COX_CONFIG=str(server.config_path)))
        assert done.returncode == 0, done.stderr
        return done.stdout.count("SuccessfulDelete") == 2 and done.stdout
    out = await eventually(traced, timeout=30, what="the old pods' deletions traced")
    print(out)
    lines = out.splitlines()
    assert lines[0].startswith("deployment default/roll revision 2: 2/2 ready, 2 updated, "), out
    scaling = [line for line in lines if "ScalingReplicaSet" in line]
    assert len({line.split("replica set ")[1].split()[0] for line in scaling}) == 2, out
    assert sum(line.endswith(" Ready") for line in lines) >= 2, out
