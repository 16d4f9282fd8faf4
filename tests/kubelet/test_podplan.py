"""The pod plan (agent/kubelet/podplan.py) is pure: a pod and what the runtime reports in, steps out.

No Docker here: the plan reads ContainerStatus values, which these tests make
as the runtime would report them.
"""
from datetime import datetime, timezone

from agent.kubelet import podplan, podspec
from agent.kubelet.podplan import Facts
from agent.runtime.types import ContainerStatus, Kind, PodRef, State
from controlplane.api import convert, defaults

REF = PodRef(uid="u1", namespace="ns", name="p")
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def pod(*, init: tuple[str, ...] = (), apps: tuple[str, ...] = ("app",), policy: str = "Always", **spec):
    obj = convert.from_manifest({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
        "spec": {"restartPolicy": policy, **spec,
                 "initContainers": [{"name": n, "image": "busybox:local"} for n in init],
                 "containers": [{"name": n, "image": "busybox:local"} for n in apps]}})
    defaults.apply_defaults(obj)
    return obj


def status(name: str, kind: Kind, *, attempt: int = 0, state: State = State.RUNNING, exit_code: int | None = None,
           sandbox: str = "s0", spec_hash: str = "", id: str = "") -> ContainerStatus:
    return ContainerStatus(
        id=id or f"{name}-{attempt}", pod=REF, name=name, kind=kind, attempt=attempt, state=state,
        image="busybox:local", image_id="sha", spec_hash=spec_hash, grace_seconds=30, created_at=T0,
        started_at=T0, finished_at=T0 if state is State.EXITED else None, exit_code=exit_code,
        oom_killed=False, error="", ip="198.18.5.2", sandbox_id="" if kind is Kind.SANDBOX else sandbox)


def sandbox(attempt: int = 0, state: State = State.RUNNING) -> ContainerStatus:
    return status("POD", Kind.SANDBOX, attempt=attempt, state=state, id=f"s{attempt}")


def test_a_new_pod_gets_a_sandbox_first_then_its_containers():
    p = pod(apps=("a", "b"))
    first = podplan.plan(p, Facts(snapshot=()))
    assert first.sandbox == podplan.NewSandbox(attempt=0, replacing=None)
    assert not first.starts
    second = podplan.plan(p, Facts(snapshot=(sandbox(),)))
    assert [(s.container.name, s.kind, s.attempt) for s in second.starts] == [("a", Kind.APP, 0), ("b", Kind.APP, 0)]
    assert second.running_sandbox.id == "s0"
    assert second.next_sync is None
    done = podplan.plan(p, Facts(snapshot=(sandbox(), status("a", Kind.APP), status("b", Kind.APP))))
    assert not done.acts and done.next_sync is None


def test_no_sandbox_while_the_pod_network_is_missing_and_a_look_again_soon():
    plan = podplan.plan(pod(), Facts(snapshot=(), network_ready=False))
    assert plan.network_not_ready and plan.sandbox is None
    assert plan.next_sync == podplan.HOLD
    host = podplan.plan(pod(hostNetwork=True), Facts(snapshot=(), network_ready=False))
    assert host.sandbox is not None


def test_init_containers_run_one_at_a_time_before_the_apps():
    p = pod(init=("i1", "i2"))
    plan = podplan.plan(p, Facts(snapshot=(sandbox(),)))
    assert [s.container.name for s in plan.starts] == ["i1"]
    running = podplan.plan(p, Facts(snapshot=(sandbox(), status("i1", Kind.INIT))))
    assert not running.acts
    after = podplan.plan(p, Facts(snapshot=(sandbox(), status("i1", Kind.INIT, state=State.EXITED, exit_code=0))))
    assert [s.container.name for s in after.starts] == ["i2"]
    apps = podplan.plan(p, Facts(snapshot=(sandbox(), status("i1", Kind.INIT, state=State.EXITED, exit_code=0),
                                           status("i2", Kind.INIT, state=State.EXITED, exit_code=0))))
    assert [(s.container.name, s.kind) for s in apps.starts] == [("app", Kind.APP)]


def test_a_failed_init_container_with_restart_never_ends_the_pod_start():
    p = pod(init=("i1",), policy="Never")
    plan = podplan.plan(p, Facts(snapshot=(sandbox(), status("i1", Kind.INIT, state=State.EXITED, exit_code=1))))
    assert not plan.acts


def test_restart_policy_decides_which_exited_containers_start_again():
    exited_ok = status("app", Kind.APP, state=State.EXITED, exit_code=0)
    exited_bad = status("app", Kind.APP, state=State.EXITED, exit_code=3)
    for policy, latest, restarts in [("Always", exited_ok, True), ("OnFailure", exited_ok, False),
                                     ("OnFailure", exited_bad, True), ("Never", exited_bad, False)]:
        plan = podplan.plan(pod(policy=policy), Facts(snapshot=(sandbox(), latest)))
        assert bool(plan.starts) == restarts, (policy, latest.exit_code)
        if restarts:
            assert plan.starts[0].attempt == 1


def test_crash_loop_back_off_holds_the_restart_and_sets_the_next_sync():
    exited = status("app", Kind.APP, state=State.EXITED, exit_code=1)
    p = pod()
    assert podplan.restart_candidates(p, (sandbox(), exited)) == [exited]
    plan = podplan.plan(p, Facts(snapshot=(sandbox(), exited), restart_waits={exited.id: (10.0, 7.5)}))
    assert not plan.starts
    assert [(w.container.name, w.reason, w.back_off, w.seconds) for w in plan.waiting] == [
        ("app", "CrashLoopBackOff", 10.0, 7.5)]
    assert plan.next_sync == 7.5


def test_image_pull_back_off_holds_the_start_until_it_ends():
    plan = podplan.plan(pod(), Facts(snapshot=(sandbox(),), pull_waits={"app": 20.0}))
    assert not plan.starts and plan.waiting[0].reason == "ImagePullBackOff"
    assert plan.next_sync == 20.0


def test_a_failed_liveness_probe_or_a_changed_spec_kills_the_container():
    p = pod()
    running = status("app", Kind.APP, spec_hash=podspec.spec_hash(p.spec.containers[0]))
    plan = podplan.plan(p, Facts(snapshot=(sandbox(), running), probe_failures={running.id: "liveness"}))
    assert [(k.status.id, k.why) for k in plan.kills] == [(running.id, "Container app failed liveness probe, will be restarted")]
    changed = status("app", Kind.APP, spec_hash="other")
    assert "definition changed" in podplan.plan(p, Facts(snapshot=(sandbox(), changed))).kills[0].why
    assert not podplan.plan(p, Facts(snapshot=(sandbox(), running))).kills


def test_a_dead_sandbox_is_replaced_and_attempts_continue_across_sandboxes():
    p = pod()
    dead = sandbox(0, State.EXITED)
    old_app = status("app", Kind.APP, state=State.EXITED, exit_code=137)
    plan = podplan.plan(p, Facts(snapshot=(dead, old_app)))
    assert plan.sandbox == podplan.NewSandbox(attempt=1, replacing=dead)
    fresh = podplan.plan(p, Facts(snapshot=(dead, old_app, sandbox(1))))
    assert [(s.container.name, s.attempt) for s in fresh.starts] == [("app", 1)]


def test_a_running_sandbox_never_wired_into_the_pod_network_is_replaced_not_given_containers():
    """The agent died, or Docker's answer to the start timed out, between the sandbox's start and its
    wiring (seen on the Vagrant VMs: a pod with only `lo`, its probes failing for ever)."""
    p = pod()
    unwired = sandbox(0)
    plan = podplan.plan(p, Facts(snapshot=(unwired,), unwired=frozenset({unwired.id})))
    assert plan.sandbox == podplan.NewSandbox(attempt=1, replacing=unwired) and not plan.starts
    wired = podplan.plan(p, Facts(snapshot=(unwired,)))
    assert wired.sandbox is None and [s.container.name for s in wired.starts] == ["app"]


def test_a_dead_sandbox_of_a_finished_pod_is_left_alone():
    done = status("app", Kind.APP, state=State.EXITED, exit_code=0)
    plan = podplan.plan(pod(policy="OnFailure"), Facts(snapshot=(sandbox(0, State.EXITED), done)))
    assert not plan.acts and plan.sandbox is None


def test_a_hold_after_a_failed_step_delays_it():
    plan = podplan.plan(pod(), Facts(snapshot=(), hold=1.5))
    assert plan.sandbox is None and plan.next_sync == 1.5
    starts = podplan.plan(pod(), Facts(snapshot=(sandbox(),), hold=1.5))
    assert not starts.starts and starts.next_sync == 1.5


def test_a_finished_or_overdue_pod_is_stopped():
    assert podplan.plan(pod(), Facts(snapshot=(sandbox(),), deadline_left=-1)).terminal[1] == "DeadlineExceeded"
    assert podplan.plan(pod(), Facts(snapshot=(sandbox(),), deadline_left=12.0)).next_sync == 12.0
    known = ("Failed", "Evicted", "gone")
    assert podplan.plan(pod(), Facts(snapshot=(), terminal=known)).terminal == known


def test_deletion_grace_is_the_shorter_of_the_deletion_and_the_pod():
    p = pod(terminationGracePeriodSeconds=20)
    assert podplan.deletion_grace(p) == 20
    p.metadata.deletion_grace_period_seconds = 5
    assert podplan.deletion_grace(p) == 5
