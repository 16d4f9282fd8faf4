"""Lifecycle hooks and sidecar init containers on a real Docker Engine, as static pods.

Containers write what happens to them into a hostPath directory the test reads
(`trap ... TERM` lines show when the stop signal came), so the order of
postStart, preStop, SIGTERM and the sidecars' stops is observed, not assumed.
"""
import asyncio
import logging
import time

from tests.kubelet.helpers import container, fetched, loopback_http, reported, until, write_pod
from tests.kubelet.test_api_pods import api_status, pod as api_pod
from tests.support.polling import eventually

IMAGE = "coxswain-test/busybox:1"


def logged(name: str, then: str = "while true; do sleep 0.2; done") -> str:
    """A shell that notes its start and its SIGTERM in /data/log, running `then` meanwhile."""
    return (f"trap 'echo {name}-term >> /data/log; exit 0' TERM; echo {name}-start >> /data/log; {then} & "
            "while true; do sleep 0.2; done")


def shell(name: str, command: str, **extra) -> dict:
    return {"name": name, "image": IMAGE, "command": ["sh", "-c", command],
            "volumeMounts": [{"name": "data", "mountPath": "/data"}], **extra}


def pod(data, containers, **spec) -> dict:
    return {"volumes": [{"name": "data", "hostPath": {"path": str(data), "type": "DirectoryOrCreate"}}],
            "containers": containers, **spec}


def lines(data) -> list[str]:
    log = data / "log"
    return log.read_text().split() if log.exists() else []


async def gone(kubelet, manifests, name: str) -> None:
    (manifests / f"{name}.yaml").unlink()

    async def removed():
        return reported(kubelet, name) is None and not [
            c for c in await kubelet.runtime.containers.list() if c.pod.name == f"{name}-node1"]
    await eventually(removed, timeout=40, what=f"pod {name} and its containers gone")


async def test_post_start_finishes_before_the_container_is_reported_running(kubelet, manifests, tmp_path):
    data = tmp_path / "data"
    hook = {"exec": {"command": ["sh", "-c", "sleep 2; echo hooked > /data/started"]}}
    write_pod(manifests, "poststart", pod(data, [shell("c", "exec sleep 3600", lifecycle={"postStart": hook})]))
    status = await until(kubelet, "poststart", lambda s: container(s, "c").state.HasField("running"),
                         what="the container running")
    assert (data / "started").read_text() == "hooked\n", "reported running before its postStart finished"
    assert any(c.type == "Ready" and c.status == "True" for c in status.conditions)


async def test_a_failing_post_start_kills_the_container_and_it_restarts(kubelet, manifests, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="agent.kubelet.recorder")
    hook = {"exec": {"command": ["sh", "-c", "echo nope; exit 3"]}}
    write_pod(manifests, "badhook", pod(tmp_path / "data", [shell("c", "exec sleep 3600", lifecycle={"postStart": hook})],
                                       terminationGracePeriodSeconds=1))
    status = await until(kubelet, "badhook", lambda s: container(s, "c").restart_count >= 1, timeout=40,
                         what="a restart after the failed postStart")
    assert not container(status, "c").ready
    failed = [r.getMessage() for r in caplog.records if "FailedPostStartHook" in r.getMessage()]
    assert failed and "command exited 3: nope" in failed[0]


async def test_pre_stop_hooks_run_before_the_stop_signal(kubelet, manifests, tmp_path):
    """exec and httpGet preStop hooks (the latter to a server of the test's on loopback) on removal;
    a sleep preStop delays the signal by its seconds."""
    data = tmp_path / "data"
    seen: list[str] = []

    def called(path: str) -> None:
        seen.append(path)
        with (data / "log").open("a") as log:
            log.write("b-prestop\n")

    async with loopback_http(on_request=called) as port:
        write_pod(manifests, "prestop", pod(data, [
            shell("a", logged("a"), lifecycle={"preStop": {"exec": {"command": [
                "sh", "-c", "echo a-prestop >> /data/log"]}}}),
            shell("b", logged("b"), lifecycle={"preStop": {"httpGet": {
                "host": "127.0.0.1", "port": port, "path": "/quit?who=b"}}}),
            shell("c", logged("c"), lifecycle={"preStop": {"sleep": {"seconds": 2}}})]))
        await until(kubelet, "prestop", lambda s: s.phase == "Running", what="Running")
        await eventually(lambda: asyncio.sleep(0, len(lines(data)) == 3), what="the three containers' starts")
        began = asyncio.get_running_loop().time()
        await gone(kubelet, manifests, "prestop")
        took = asyncio.get_running_loop().time() - began
    log = lines(data)
    assert seen == ["/quit?who=b"]
    for name in "ab":
        assert log.index(f"{name}-prestop") < log.index(f"{name}-term"), log
    assert "c-term" in log and took >= 2, "the sleep preStop did not hold the stop signal back"


async def test_a_sidecar_starts_before_the_next_init_container_runs_beside_the_app_and_stops_last(
        kubelet, manifests, tmp_path, runtime):
    data = tmp_path / "data"
    proxy = shell("proxy", logged("proxy", "mkdir -p /www && echo up > /www/index.html && httpd -f -p 8080 -h /www"),
                  restartPolicy="Always", startupProbe={"httpGet": {"port": 8080}, "periodSeconds": 1},
                  readinessProbe={"httpGet": {"port": 8080}, "periodSeconds": 1})
    setup = shell("setup", "wget -q -O /data/seen http://127.0.0.1:8080/index.html")   # needs the sidecar serving
    app = shell("app", logged("app"), lifecycle={"preStop": {"sleep": {"seconds": 1}}})   # holds its own stop back
    write_pod(manifests, "sidecar", pod(data, [app], initContainers=[proxy, setup]))
    status = await until(kubelet, "sidecar", lambda s: s.phase == "Running" and all(
        c.status == "True" for c in s.conditions), timeout=40, what="Running and Ready with the sidecar")
    assert (data / "seen").read_text() == "up\n"
    assert container(status, "setup").state.terminated.reason == "Completed"
    proxy_status = container(status, "proxy")
    assert proxy_status.state.HasField("running") and proxy_status.started and proxy_status.ready

    await runtime.containers.kill(proxy_status.container_id.removeprefix("docker://"), signal="SIGKILL")
    status = await until(kubelet, "sidecar", lambda s: container(s, "proxy").restart_count == 1 and container(
        s, "proxy").state.HasField("running"), timeout=30, what="the sidecar restarted")
    assert container(status, "app").restart_count == 0 and container(status, "setup").restart_count == 0

    await gone(kubelet, manifests, "sidecar")
    log = lines(data)
    assert log.index("app-term") < log.index("proxy-term"), log


async def test_a_job_pod_completes_with_its_sidecar_running_and_the_sidecar_is_stopped(kubelet, manifests, tmp_path):
    data = tmp_path / "data"
    write_pod(manifests, "jobside", pod(data, [shell("main", "echo main-done >> /data/log")],
                                        initContainers=[shell("proxy", logged("proxy"), restartPolicy="Always")],
                                        restartPolicy="Never"))
    status = await until(kubelet, "jobside", lambda s: s.phase == "Succeeded" and container(
        s, "proxy").state.HasField("terminated"), timeout=40, what="Succeeded with the sidecar stopped")
    assert container(status, "main").state.terminated.exit_code == 0
    assert container(status, "proxy").restart_count == 0
    assert lines(data)[-1] == "proxy-term", lines(data)


async def test_through_the_api_pre_stop_counts_against_the_grace_period_and_hook_failures_are_events(
        joined, client, tmp_path):
    """A preStop that would take 30 s is cut at the pod's 3 s grace; SIGTERM follows with the 2 s Kubernetes
    grants after a hook. A failed postStart is a FailedPostStartHook Event, and under Never the pod fails."""
    data = tmp_path / "data"
    hook = {"preStop": {"exec": {"command": ["sh", "-c", "echo a-prestop >> /data/log; sleep 30"]}}}
    await client.resource("Pod").create(api_pod("graceful", pod(data, [shell("a", logged("a"), lifecycle=hook)],
                                                               terminationGracePeriodSeconds=3)))
    failing = {"postStart": {"exec": {"command": ["sh", "-c", "exit 3"]}}}
    await client.resource("Pod").create(api_pod("hookfail", pod(tmp_path / "other", [
        shell("c", "exec sleep 3600", lifecycle=failing)], restartPolicy="Never", terminationGracePeriodSeconds=1)))
    await api_status(client, "graceful", lambda s: s.phase == "Running", what="graceful Running")
    await eventually(lambda: asyncio.sleep(0, lines(data) == ["a-start"]), what="a-start logged")
    began = time.monotonic()
    await client.resource("Pod").delete("graceful", namespace="default")

    async def deleted():
        return await fetched(client, "Pod", "graceful", "default") is None
    await eventually(deleted, timeout=40, what="graceful deleted")
    took = time.monotonic() - began
    assert lines(data) == ["a-start", "a-prestop", "a-term"]
    assert 3 <= took < 10, f"the preStop hook was not bounded by the grace period: {took:.1f}s"

    failed = await api_status(client, "hookfail", lambda s: s.phase == "Failed", what="hookfail Failed")
    assert failed.status.container_statuses[0].state.terminated.exit_code != 0

    async def event():
        events = (await client.resource("Event").list(namespace="default")).items
        return [e for e in events if e.involved_object.name == "hookfail" and e.reason == "FailedPostStartHook"]
    found = await eventually(event, what="a FailedPostStartHook event")
    assert found[0].type == "Warning" and "command exited 3" in found[0].message
    assert found[0].involved_object.field_path == "spec.containers{c}"
