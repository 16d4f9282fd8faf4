"""Restart policies, crash-loop back-off, init containers, OOM, termination messages, deadlines."""
from agent.runtime.types import Kind
from tests.kubelet.helpers import container, until, write_pod

IMAGE = "coxswain-test/busybox:1"


def one(command, **extra):
    return {"containers": [{"name": "c", "image": IMAGE, "command": ["sh", "-c", command]}], **extra}


async def test_crash_loop_backs_off_and_counts_restarts(kubelet, manifests):
    write_pod(manifests, "crashy", one("exit 1"))   # restartPolicy Always (the default)
    status = await until(kubelet, "crashy",
                         lambda s: container(s, "c").state.waiting.reason == "CrashLoopBackOff",
                         what="CrashLoopBackOff")
    c = container(status, "c")
    assert c.restart_count == 1, "the first failure is retried at once, the second waits"
    assert "back-off 10s" in c.state.waiting.message
    assert c.last_state.terminated.exit_code == 1 and c.last_state.terminated.reason == "Error"
    assert status.phase == "Running"
    status = await until(kubelet, "crashy", lambda s: container(s, "c").restart_count == 2, timeout=20,
                         what="the restart after 10 s")
    status = await until(kubelet, "crashy", lambda s: "back-off 20s" in container(s, "c").state.waiting.message,
                         what="the back-off doubling to 20 s")
    assert container(status, "c").restart_count == 2
    uid = next(p.metadata.uid for p, _ in kubelet.status.statuses.values() if p.metadata.name == "crashy-node1")
    kept = [c.attempt for c in await kubelet.runtime.containers.list(pod_uid=uid) if c.kind is Kind.APP]
    assert sorted(kept) == [1, 2], "only the latest instance and the one before it are kept"


async def test_never_ends_failed_with_the_exit_code(kubelet, manifests):
    write_pod(manifests, "once", one("exit 3", restartPolicy="Never"))
    status = await until(kubelet, "once", lambda s: s.phase == "Failed", what="phase Failed")
    terminated = container(status, "c").state.terminated
    assert terminated.exit_code == 3 and terminated.reason == "Error"
    assert container(status, "c").restart_count == 0


async def test_job_like_pod_succeeds(kubelet, manifests):
    write_pod(manifests, "job", one("echo done > /dev/termination-log; exit 0", restartPolicy="OnFailure"))
    status = await until(kubelet, "job", lambda s: s.phase == "Succeeded", what="phase Succeeded")
    terminated = container(status, "c").state.terminated
    assert terminated.exit_code == 0 and terminated.reason == "Completed"
    assert terminated.message == "done\n"
    conditions = {c.type: (c.status, c.reason) for c in status.conditions}
    assert conditions["Ready"] == ("False", "PodCompleted")


async def test_on_failure_restarts_until_success(kubelet, manifests, tmp_path):
    marker = tmp_path / "marker"
    pod = one("if [ -e /state/tried ]; then exit 0; fi; touch /state/tried; exit 2", restartPolicy="OnFailure")
    pod["volumes"] = [{"name": "state", "hostPath": {"path": str(marker), "type": "DirectoryOrCreate"}}]
    pod["containers"][0]["volumeMounts"] = [{"name": "state", "mountPath": "/state"}]
    write_pod(manifests, "retry", pod)
    status = await until(kubelet, "retry", lambda s: s.phase == "Succeeded", what="success on the second try")
    assert container(status, "c").restart_count == 1
    assert container(status, "c").last_state.terminated.exit_code == 2


async def test_init_containers_run_in_order_before_app_containers(kubelet, manifests):
    pod = {
        "volumes": [{"name": "work", "emptyDir": {}}],
        "initContainers": [
            {"name": f"init{i}", "image": IMAGE, "command": ["sh", "-c", f"echo {i} >> /work/log"],
             "volumeMounts": [{"name": "work", "mountPath": "/work"}]} for i in (1, 2)],
        "containers": [{"name": "app", "image": IMAGE, "command": ["sh", "-c", "cat /work/log; sleep 3600"],
                        "volumeMounts": [{"name": "work", "mountPath": "/work"}]}],
    }
    write_pod(manifests, "inits", pod)
    status = await until(kubelet, "inits", lambda s: s.phase == "Running", what="Running after inits")
    assert [c.state.terminated.reason for c in status.init_container_statuses] == ["Completed", "Completed"]
    conditions = {c.type: c.status for c in status.conditions}
    assert conditions["Initialized"] == "True"
    app_id = container(status, "app").container_id.removeprefix("docker://")
    logs = b"".join([chunk async for chunk in kubelet.runtime.streams.logs(app_id)])
    assert logs == b"1\n2\n"


async def test_failed_init_container_under_never_fails_the_pod(kubelet, manifests):
    pod = {"restartPolicy": "Never",
           "initContainers": [{"name": "setup", "image": IMAGE, "command": ["sh", "-c", "exit 5"]}],
           "containers": [{"name": "app", "image": IMAGE, "command": ["sleep", "3600"]}]}
    write_pod(manifests, "badinit", pod)
    status = await until(kubelet, "badinit", lambda s: s.phase == "Failed", what="Failed")
    assert container(status, "setup").state.terminated.exit_code == 5
    assert container(status, "app").state.waiting.reason == "PodInitializing"


async def test_oom_killed_is_reported(kubelet, manifests):
    pod = one("x=$(head -c 100000000 /dev/zero | tr '\\000' a); echo survived", restartPolicy="Never")
    pod["containers"][0]["resources"] = {"limits": {"memory": "16Mi"}}
    write_pod(manifests, "hungry", pod)
    status = await until(kubelet, "hungry", lambda s: s.phase == "Failed", what="Failed")
    terminated = container(status, "c").state.terminated
    assert terminated.reason == "OOMKilled" and terminated.exit_code == 137


async def test_active_deadline_fails_the_pod(kubelet, manifests):
    write_pod(manifests, "late", one("sleep 3600", activeDeadlineSeconds=2, terminationGracePeriodSeconds=1))
    status = await until(kubelet, "late", lambda s: s.phase == "Failed", timeout=30, what="DeadlineExceeded")
    assert status.reason == "DeadlineExceeded"


async def test_a_container_that_cannot_run_fails_the_pod(kubelet, manifests):
    write_pod(manifests, "norun", {"restartPolicy": "Never",
                                   "containers": [{"name": "c", "image": IMAGE, "command": ["/no/such/binary"]}]})
    status = await until(kubelet, "norun", lambda s: s.phase == "Failed", what="Failed")
    terminated = container(status, "c").state.terminated
    assert terminated.reason == "ContainerCannotRun" and terminated.exit_code != 0
    assert "no such file" in terminated.message.lower()
