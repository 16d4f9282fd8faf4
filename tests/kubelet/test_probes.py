"""Liveness, readiness and startup probes of every handler kind, against real containers."""
import time

from agent.kubelet.podworker import RESYNC
from tests.kubelet.helpers import container, until, write_pod
from tests.kubelet.test_api_pods import api_status, pod as api_pod

IMAGE = "coxswain-test/busybox:1"
# Serves /www on :8080 and flips health by the presence of files (touched/removed via exec).
SERVER = "mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www"


def ready(name):
    return lambda s: any(c.type == "Ready" and c.status == ("True" if name else "False") for c in s.conditions)


async def test_failing_liveness_probe_restarts_the_container(kubelet, manifests):
    probe = {"exec": {"command": ["test", "!", "-e", "/tmp/sick"]}, "periodSeconds": 1, "failureThreshold": 2}
    write_pod(manifests, "live", {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", "sleep 2; touch /tmp/sick; exec sleep 3600"],
        "livenessProbe": probe}], "terminationGracePeriodSeconds": 1})
    status = await until(kubelet, "live", lambda s: container(s, "c").restart_count >= 1, timeout=30,
                         what="a restart after the liveness probe fails")
    assert container(status, "c").last_state.terminated.exit_code in (137, 143)


async def test_readiness_probe_flips_ready(kubelet, manifests, runtime):
    probe = {"httpGet": {"path": "/healthz", "port": "web"}, "periodSeconds": 1}
    write_pod(manifests, "ready", {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", SERVER],
        "ports": [{"name": "web", "containerPort": 8080}], "readinessProbe": probe}]})
    status = await until(kubelet, "ready", ready(True), what="Ready=True")
    assert container(status, "c").ready
    container_id = container(status, "c").container_id.removeprefix("docker://")
    await runtime.streams.exec(container_id, ["rm", "/www/healthz"], timeout=5)
    status = await until(kubelet, "ready", ready(False), what="Ready=False after the probe fails")
    assert not container(status, "c").ready and container(status, "c").restart_count == 0
    await runtime.streams.exec(container_id, ["sh", "-c", "echo ok > /www/healthz"], timeout=5)
    await until(kubelet, "ready", ready(True), what="Ready=True again")


async def test_tcp_readiness_and_startup_probe(kubelet, manifests):
    write_pod(manifests, "tcp", {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", "sleep 2; " + SERVER],
        "startupProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1, "failureThreshold": 30},
        "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}]})
    status = await until(kubelet, "tcp", ready(True), what="Ready once the port opens")
    assert container(status, "c").started


async def test_failing_startup_probe_restarts_the_container(kubelet, manifests):
    write_pod(manifests, "slow", {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sleep", "3600"],
        "startupProbe": {"tcpSocket": {"port": 9}, "periodSeconds": 1, "failureThreshold": 2}}],
        "terminationGracePeriodSeconds": 0})
    status = await until(kubelet, "slow", lambda s: container(s, "c").restart_count >= 1, timeout=30,
                         what="a restart after the startup probe fails")
    assert not container(status, "c").ready


async def test_readiness_reaches_the_api_without_waiting_for_a_resync(joined, client, runtime):
    """Each readiness verdict (the first pass, a failure, a pass again) is in the API's Ready condition
    within about a second, end to end: at most one probe period (1 s) until the probe sees the change, and
    the verdict wakes the worker, whose status is written at once. Before the fix the first pass waited for
    the pod worker's resync (10 s), since the sync that started the container did not start its probe."""
    bound = 1.0 + 1.0   # the probe period, and a second for the exec, the sync and the write on a busy machine
    assert bound < RESYNC
    probe = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 1, "failureThreshold": 1}
    await client.resource("Pod").create(api_pod("flip", {"containers": [{
        "name": "c", "image": IMAGE, "command": ["sh", "-c", SERVER], "readinessProbe": probe}]}))
    found = await api_status(client, "flip", lambda s: s.container_statuses and
                             s.container_statuses[0].state.HasField("running"), what="the container running")
    began = time.monotonic()
    await api_status(client, "flip", ready(True), what="Ready=True in the API")
    assert time.monotonic() - began < bound, "first readiness pass waited for a resync"
    container_id = found.status.container_statuses[0].container_id.removeprefix("docker://")
    for command, verdict in ((["rm", "/www/healthz"], False), (["sh", "-c", "echo ok > /www/healthz"], True)):
        began = time.monotonic()
        await runtime.streams.exec(container_id, command, timeout=5)
        await api_status(client, "flip", ready(verdict), what=f"Ready={verdict} in the API")
        assert time.monotonic() - began < bound, f"Ready={verdict} waited for a resync"
