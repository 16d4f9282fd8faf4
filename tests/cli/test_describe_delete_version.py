"""`cox describe` with events, `cox delete` in its forms, and `cox version`."""
import asyncio
import re
import subprocess
import time

from controlplane.api.kinds import KINDS
from controlplane.client.events import reference
from tests.support.control_plane import cox_command, cox_env

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {app}}}
spec:
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
"""


def event(pod, reason: str, message: str, seconds_ago: int, *, type="Normal", uid=None):
    ref = reference(pod)
    if uid is not None:
        ref.uid = uid
    stamp = {"seconds": int(time.time()) - seconds_ago}
    return KINDS["Event"].new(
        metadata={"name": f"{pod.metadata.name}.{reason.lower()}", "namespace": pod.metadata.namespace},
        involved_object=ref, reason=reason, message=message, type=type, count=1,
        source={"component": "test"}, first_timestamp=stamp, last_timestamp=stamp)


async def test_describe_shows_the_objects_events_in_order(cox, namespace, api):
    cox("apply", "-n", namespace, "-f", "-", stdin=POD.format(name="web", app="web"))
    pod = await api.resource("Pod").get("web", namespace=namespace)
    events = api.resource("Event")
    await events.create(event(pod, "Pulled", "Container image already present", 30))
    await events.create(event(pod, "Scheduled", f"Successfully assigned {namespace}/web to node-a", 90))
    await events.create(event(pod, "Killing", "about an earlier pod of that name", 10, uid="another-uid"))
    page = cox("describe", "pod", "web", "-n", namespace).stdout.splitlines()
    assert page[0].split() == ["Name:", "web"]
    assert ["Image:", "busybox"] in [line.split() for line in page]
    start = page.index("Events:")
    rows = [line.split(None, 4) for line in page[start + 3:]]
    assert page[start + 1].split() == ["Type", "Reason", "Age", "From", "Message"]
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("Normal", "Scheduled", "test", f"Successfully assigned {namespace}/web to node-a"),
        ("Normal", "Pulled", "test", "Container image already present")]
    # A name prefix finds the pod, as kubectl's describe does.
    assert cox("describe", "pods", "we", "-n", namespace).stdout.splitlines()[0].split() == ["Name:", "web"]
    missing = cox("describe", "pod", "zzz", "-n", namespace, ok=False)
    assert missing.returncode == 1 and missing.stderr == 'error: pods "zzz" not found\n'


def test_describe_every_kind_of_the_kubectl_fixtures(cox, namespace):
    cox("apply", "-n", namespace, "-f", "tests/api/testdata/deployment.yaml", "-f",
        "tests/api/testdata/service-clusterip.yaml", "-f", "tests/api/testdata/job.yaml")
    for kind, name, line in [("deployment", "web", "StrategyType:"), ("service", "web", "TargetPort:"),
                             ("job", "pi", "Pods Statuses:")]:
        page = cox("describe", kind, name, "-n", namespace).stdout
        assert line in page and re.search(r"\nEvents:\s+<none>$", page.rstrip())


def test_delete_by_name_file_and_selector(cox, namespace, tmp_path):
    manifest = tmp_path / "pods.yaml"
    manifest.write_text(POD.format(name="a", app="x") + "---\n" + POD.format(name="b", app="x"))
    cox("apply", "-n", namespace, "-f", str(manifest))
    cox("apply", "-n", namespace, "-f", "-", stdin="---\n".join(
        POD.format(name=n, app=app) for n, app in [("c", "y"), ("d", "y"), ("e", "z")]))
    assert cox("delete", "pod", "e", "-n", namespace).stdout == 'pod "e" deleted\n'
    assert cox("delete", "-f", str(manifest), "-n", namespace).stdout == 'pod "a" deleted\npod "b" deleted\n'
    assert cox("delete", "pods", "-l", "app=y", "-n", namespace).stdout == 'pod "c" deleted\npod "d" deleted\n'
    assert cox("get", "pods", "-n", namespace).stderr == f"No resources found in {namespace} namespace.\n"
    again = cox("delete", "pod", "a", "-n", namespace, ok=False)
    assert again.returncode == 1 and again.stderr == 'error: pods "a" not found\n'


async def test_delete_wait_and_cascade(cox, namespace, api):
    """A pod on a node is deleted gracefully: --wait returns once its kubelet (here the test)
    finishes the deletion. --cascade=orphan puts the orphan finalizer on the owner."""
    cox("apply", "-n", namespace, "-f", "-", stdin=POD.format(name="bound", app="x"))
    pods = api.resource("Pod")
    await pods.bind("bound", "node-a", namespace=namespace)
    deleting = cox.popen("delete", "pod", "bound", "-n", namespace, "--wait")
    try:
        for _ in range(200):
            pod = await pods.get("bound", namespace=namespace)
            if pod.metadata.HasField("deletion_timestamp"):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        assert deleting.poll() is None, "returned before the pod was gone"
        await pods.delete("bound", namespace=namespace, grace_period_seconds=0)
        assert await asyncio.to_thread(deleting.wait, 20) == 0
        assert deleting.stdout.read() == 'pod "bound" deleted\n'
    finally:
        deleting.kill()
        deleting.wait()

    cox("apply", "-n", namespace, "-f", "tests/api/testdata/deployment.yaml")
    cox("delete", "deployment", "web", "-n", namespace, "--cascade=orphan")
    deployment = await api.resource("Deployment").get("web", namespace=namespace)
    assert "orphan" in deployment.metadata.finalizers
    assert deployment.metadata.HasField("deletion_timestamp")


def test_version_through_every_way_of_finding_the_config(cox, server):
    shown = cox("version").stdout.splitlines()
    assert shown[0].startswith("Client Version: ") and shown[1].startswith("Server Version: ")
    assert shown[2:] == ["Datastore: sqlite", "User: admin (groups: system:masters)"]
    env = cox_env(server.home)  # `cox server` wrote ~/.cox/config in this HOME
    by_home = subprocess.run(cox_command("version"), capture_output=True, text=True, env=env, timeout=60)
    assert by_home.returncode == 0 and "Datastore: sqlite" in by_home.stdout
    env = dict(cox_env(server.home / "elsewhere"), COX_CONFIG=str(server.config_path))
    by_env = subprocess.run(cox_command("version"), capture_output=True, text=True, env=env, timeout=60)
    assert by_env.returncode == 0 and "Datastore: sqlite" in by_env.stdout
    nowhere = subprocess.run(cox_command("version"), capture_output=True, text=True,
                             env=cox_env(server.home / "elsewhere"), timeout=60)
    assert nowhere.returncode == 1
    assert nowhere.stderr.splitlines()[-1].startswith("error: no client config at ")
