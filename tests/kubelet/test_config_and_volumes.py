"""ConfigMaps and Secrets as env and files, memory-backed emptyDirs, and what a missing one does."""
import base64

from controlplane.api import convert
from tests.kubelet.test_api_pods import api_status, pod
from tests.support.polling import eventually

IMAGE = "coxswain-test/busybox:1"


def manifest(kind, name, **fields):
    return convert.from_manifest({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, **fields})


def waiting(name):
    return lambda s: any(c.state.waiting.reason == name for c in s.container_statuses)


async def run_and_read(client, runtime, name, spec, command):
    await client.resource("Pod").create(pod(name, spec))
    found = await api_status(client, name, lambda s: s.phase == "Running", what=f"{name} Running")
    container_id = found.status.container_statuses[0].container_id.removeprefix("docker://")
    result = await runtime.streams.exec(container_id, ["sh", "-c", command], timeout=10)
    assert result.exit_code == 0, result.output
    return result.output.decode()


async def test_config_map_and_secret_as_env_and_files(joined, client, runtime):
    await client.resource("ConfigMap").create(manifest("ConfigMap", "settings", data={"color": "blue",
                                                                                        "size": "10"}))
    await client.resource("Secret").create(manifest("Secret", "creds", data={
        "password": base64.b64encode(b"s3cret").decode()}))
    spec = {
        "volumes": [{"name": "cfg", "configMap": {"name": "settings", "items": [{"key": "color", "path": "c/color"}]}},
                    {"name": "sec", "secret": {"secretName": "creds", "defaultMode": 0o400}},
                    {"name": "fast", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}}],
        "containers": [{
            "name": "c", "image": IMAGE, "command": ["sleep", "3600"],
            "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
            "env": [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
                    {"name": "GREETING", "value": "color=$(CFG_color) $$(kept)"},
                    {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                                        "divisor": "1Mi"}}}],
            "resources": {"limits": {"memory": "64Mi", "cpu": "500m"}},
            "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}, {"name": "sec", "mountPath": "/etc/sec"},
                             {"name": "fast", "mountPath": "/fast"}]}]}
    out = await run_and_read(client, runtime, "configured", spec,
                             "echo $CFG_color $CFG_size $PASSWORD; echo $GREETING; echo $MEM; "
                             "cat /etc/cfg/c/color; echo; cat /etc/sec/password; echo; "
                             "stat -c %a /etc/sec/..data/password; ls /etc/cfg; "
                             "grep -E ' /(fast|etc/sec) ' /proc/mounts | cut -d' ' -f3 | sort -u; "
                             "[ -n \"$MY_IP\" ] && echo has-ip")
    assert out.splitlines() == ["blue 10 s3cret", "color=blue $(kept)", "64", "blue", "s3cret", "400", "c",
                                "tmpfs", "has-ip"]


async def test_config_map_updates_reach_a_running_pod(joined, client, runtime):
    await client.resource("ConfigMap").create(manifest("ConfigMap", "live", data={"v": "1"}))
    spec = {"volumes": [{"name": "cfg", "configMap": {"name": "live"}}],
            "containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3600"],
                            "volumeMounts": [{"name": "cfg", "mountPath": "/cfg"}]}]}
    assert await run_and_read(client, runtime, "live", spec, "cat /cfg/v") == "1"
    current = await client.resource("ConfigMap").get("live", namespace="default")
    current.data["v"] = "2"
    await client.resource("ConfigMap").update(current)
    found = await client.resource("Pod").get("live", namespace="default")
    container_id = found.status.container_statuses[0].container_id.removeprefix("docker://")

    async def updated():
        result = await runtime.streams.exec(container_id, ["cat", "/cfg/v"], timeout=5)
        return result.output == b"2"
    await eventually(updated, what="the new value in the mounted file")


async def test_missing_config_map_waits_then_starts(joined, client):
    spec = {"containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3600"],
                            "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "later", "key": "x"}}}]}]}
    await client.resource("Pod").create(pod("patient", spec))
    found = await api_status(client, "patient", waiting("CreateContainerConfigError"), what="a config error")
    assert 'configmap "later" not found' in found.status.container_statuses[0].state.waiting.message
    await client.resource("ConfigMap").create(manifest("ConfigMap", "later", data={"x": "1"}))
    await api_status(client, "patient", lambda s: s.phase == "Running", timeout=30, what="Running once it exists")


async def test_missing_volume_source_is_a_failed_mount(joined, client):
    spec = {"volumes": [{"name": "s", "secret": {"secretName": "absent"}}],
            "containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3600"],
                            "volumeMounts": [{"name": "s", "mountPath": "/s"}]}]}
    await client.resource("Pod").create(pod("unmounted", spec))
    await api_status(client, "unmounted", waiting("ContainerCreating"), what="waiting in ContainerCreating")

    async def failed_mount():
        events = (await client.resource("Event").list(namespace="default")).items
        return [e for e in events if e.involved_object.name == "unmounted" and e.reason == "FailedMount"]
    events = await eventually(failed_mount, what="a FailedMount event")
    assert 'secret "absent" not found' in events[0].message


async def test_unpullable_image_backs_off(joined, client):
    spec = {"containers": [{"name": "c", "image": "127.0.0.1:9/nothing/here:1"}]}
    await client.resource("Pod").create(pod("nopull", spec))
    await api_status(client, "nopull", waiting("ErrImagePull"), what="ErrImagePull")
    await api_status(client, "nopull", waiting("ImagePullBackOff"), what="ImagePullBackOff")
