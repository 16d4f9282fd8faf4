"""The READY, STATUS and RESTARTS columns of pods follow kubectl's rules."""
from controlplane.api.kinds import KINDS
from controlplane.cli.printing.pod_status import summarize

NOW = 1_700_000_000


def pod(containers=("app",), init=(), phase="Pending", **status):
    spec = {"containers": [{"name": n, "image": "busybox"} for n in containers],
            "init_containers": [{"name": n, "image": "busybox"} for n in init]}
    return KINDS["Pod"].new(metadata={"name": "p", "namespace": "default"}, spec=spec,
                            status={"phase": phase, **status})


def running(name, ready=True, restarts=0, **extra):
    return {"name": name, "ready": ready, "restart_count": restarts,
            "state": {"running": {"started_at": {"seconds": NOW - 100}}}, **extra}


def test_a_new_pod_is_its_phase():
    s = summarize(pod(), NOW)
    assert (s.ready, s.status, s.restarts) == ("0/1", "Pending", "0")


def test_waiting_reason_wins_over_phase():
    p = pod(container_statuses=[{"name": "app", "state": {"waiting": {"reason": "ContainerCreating"}}}])
    assert summarize(p, NOW).status == "ContainerCreating"


def test_crash_loop_with_restarts_and_when_last():
    p = pod(phase="Running", container_statuses=[{
        "name": "app", "restart_count": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "last_state": {"terminated": {"exit_code": 1, "reason": "Error",
                                      "finished_at": {"seconds": NOW - 42}}}}])
    s = summarize(p, NOW)
    assert (s.ready, s.status, s.restarts) == ("0/1", "CrashLoopBackOff", "4 (42s ago)")


def test_running_and_ready_counts():
    p = pod(containers=("a", "b"), phase="Running",
            container_statuses=[running("a"), running("b", ready=False)])
    s = summarize(p, NOW)
    assert (s.ready, s.status) == ("1/2", "Running")


def test_terminated_without_reason_shows_exit_code_or_signal():
    exited = pod(phase="Failed", container_statuses=[
        {"name": "app", "state": {"terminated": {"exit_code": 3}}}])
    killed = pod(phase="Failed", container_statuses=[
        {"name": "app", "state": {"terminated": {"exit_code": 137, "signal": 9}}}])
    assert summarize(exited, NOW).status == "ExitCode:3"
    assert summarize(killed, NOW).status == "Signal:9"


def test_completed_beside_a_running_container_is_running_or_not_ready():
    statuses = [{"name": "job", "state": {"terminated": {"exit_code": 0, "reason": "Completed"}}},
                running("side")]
    ready = pod(containers=("job", "side"), phase="Running", container_statuses=statuses,
                conditions=[{"type": "Ready", "status": "True"}])
    not_ready = pod(containers=("job", "side"), phase="Running", container_statuses=statuses)
    assert summarize(ready, NOW).status == "Running"
    assert summarize(not_ready, NOW).status == "NotReady"


def test_init_containers_progress_and_failures():
    first_done = pod(init=("a", "b"), init_container_statuses=[
        {"name": "a", "state": {"terminated": {"exit_code": 0}}},
        {"name": "b", "state": {"running": {}}}])
    assert summarize(first_done, NOW).status == "Init:1/2"
    crashing = pod(init=("a",), init_container_statuses=[
        {"name": "a", "restart_count": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}])
    s = summarize(crashing, NOW)
    assert (s.status, s.restarts) == ("Init:CrashLoopBackOff", "2")
    failed = pod(init=("a",), init_container_statuses=[
        {"name": "a", "state": {"terminated": {"exit_code": 2}}}])
    assert summarize(failed, NOW).status == "Init:ExitCode:2"


def test_deletion_timestamp_means_terminating_or_unknown_when_node_lost():
    p = pod(phase="Running", container_statuses=[running("app")])
    p.metadata.deletion_timestamp.seconds = NOW + 30
    assert summarize(p, NOW).status == "Terminating"
    p.status.reason = "NodeLost"
    assert summarize(p, NOW).status == "Unknown"


def test_status_reason_wins_over_phase():
    p = pod(phase="Failed", reason="Evicted")
    assert summarize(p, NOW).status == "Evicted"


def test_a_started_sidecar_counts_in_ready_and_restarts_and_does_not_hold_initialization():
    p = pod(init=("proxy", "setup"), phase="Running", conditions=[{"type": "Initialized", "status": "True"}],
            init_container_statuses=[running("proxy", restarts=2, started=True),
                                     {"name": "setup", "state": {"terminated": {"exit_code": 0}}}],
            container_statuses=[running("app")])
    p.spec.init_containers[0].restart_policy = "Always"
    s = summarize(p, NOW)
    assert (s.ready, s.status, s.restarts) == ("2/2", "Running", "2")
    p.status.init_container_statuses[0].started = False
    p.status.conditions[0].status = "False"
    assert summarize(p, NOW).status == "Init:0/2"
