"""Sidecar init containers in the pure parts: the plan (podplan.py), the status (status.py), the stop order
(sidecars.py). No Docker here; tests/kubelet/test_hooks_sidecars.py runs them for real."""
from agent.kubelet import podplan, sidecars
from agent.kubelet.podplan import Facts
from agent.kubelet.status import PENDING, RUNNING, SUCCEEDED, ContainerFacts, PodFacts, pod_status
from agent.runtime.types import Kind, State
from controlplane.api import convert, defaults
from tests.kubelet.test_podplan import sandbox, status


def pod(*, policy: str = "Always", init=(("proxy", True), ("setup", False)), apps=("app",), startup: bool = False):
    """Init containers as (name, is a sidecar), in order."""
    def one(name, sidecar):
        c = {"name": name, "image": "busybox:local"}
        if sidecar:
            c["restartPolicy"] = "Always"
            if startup:
                c["startupProbe"] = {"exec": {"command": ["true"]}}
        return c
    obj = convert.from_manifest({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
        "spec": {"restartPolicy": policy, "initContainers": [one(n, s) for n, s in init],
                 "containers": [{"name": n, "image": "busybox:local"} for n in apps]}})
    defaults.apply_defaults(obj)
    return obj


def starts(plan):
    return [(s.container.name, s.kind, s.attempt) for s in plan.starts]


def test_the_next_init_container_starts_once_the_sidecar_runs_not_once_it_ends():
    p = pod()
    assert starts(podplan.plan(p, Facts(snapshot=(sandbox(),)))) == [("proxy", Kind.INIT, 0)]
    running = (sandbox(), status("proxy", Kind.INIT))
    assert starts(podplan.plan(p, Facts(snapshot=running))) == [("setup", Kind.INIT, 0)]
    setup_done = (*running, status("setup", Kind.INIT, state=State.EXITED, exit_code=0))
    assert starts(podplan.plan(p, Facts(snapshot=setup_done))) == [("app", Kind.APP, 0)]


def test_a_sidecar_whose_startup_probe_has_not_passed_holds_the_next_init_container():
    p = pod(startup=True)
    running = (sandbox(), status("proxy", Kind.INIT))
    assert not podplan.plan(p, Facts(snapshot=running, unstarted=frozenset({"proxy-0"}))).acts
    assert starts(podplan.plan(p, Facts(snapshot=running))) == [("setup", Kind.INIT, 0)]


def test_a_sidecar_that_exits_is_restarted_beside_the_running_app_whatever_the_pod_policy():
    p = pod(policy="Never")
    exited = (sandbox(), status("proxy", Kind.INIT, state=State.EXITED, exit_code=0),
              status("setup", Kind.INIT, state=State.EXITED, exit_code=0), status("app", Kind.APP))
    assert [s.name for s in podplan.restart_candidates(p, exited)] == ["proxy"]
    assert starts(podplan.plan(p, Facts(snapshot=exited))) == [("proxy", Kind.INIT, 1)]
    backing_off = podplan.plan(p, Facts(snapshot=exited, restart_waits={"proxy-0": (10.0, 4.0)}))
    assert not backing_off.starts and [w.reason for w in backing_off.waiting] == ["CrashLoopBackOff"]
    assert backing_off.next_sync == 4.0


def test_a_sidecar_failing_its_liveness_probe_is_killed():
    p = pod()
    running = (sandbox(), status("proxy", Kind.INIT), status("setup", Kind.INIT, state=State.EXITED, exit_code=0),
               status("app", Kind.APP))
    plan = podplan.plan(p, Facts(snapshot=running, probe_failures={"proxy-0": "liveness"}))
    assert [k.status.name for k in plan.kills] == ["proxy"]


def test_stop_order_puts_sidecars_last_in_reverse_spec_order():
    p = pod(init=(("log", True), ("setup", False), ("proxy", True)))
    running = [status("proxy", Kind.INIT), status("log", Kind.INIT), status("app", Kind.APP), sandbox()]
    groups = sidecars.stop_order(p, running)
    assert [[s.name for s in group] for group in groups] == [["app"], ["proxy"], ["log"]]
    assert [[s.name for s in g] for g in sidecars.stop_order(None, running)] == [["proxy", "log", "app"]]


def _status(p, init, app):
    return pod_status(p, PodFacts(init=init, app=app, pod_ip="198.18.5.2"))


def _facts(name, kind, state=State.RUNNING, exit_code=None, **known):
    return ContainerFacts(attempts=[status(name, kind, state=state, exit_code=exit_code)], **known)


def test_a_job_pod_with_a_running_sidecar_succeeds_when_its_main_container_does():
    p = pod(policy="Never", init=(("proxy", True),))
    proxy = _facts("proxy", Kind.INIT, ready=True)
    assert _status(p, {"proxy": proxy}, {}).phase == PENDING
    running = _status(p, {"proxy": proxy}, {"app": _facts("app", Kind.APP, ready=True)})
    assert running.phase == RUNNING
    assert {c.type: c.status for c in running.conditions}["Initialized"] == "True"
    done = _status(p, {"proxy": proxy}, {"app": _facts("app", Kind.APP, State.EXITED, 0)})
    assert done.phase == SUCCEEDED


def test_the_pod_is_ready_only_when_its_sidecars_are():
    p = pod(init=(("proxy", True),))
    app = {"app": _facts("app", Kind.APP, ready=True)}
    unready = _status(p, {"proxy": _facts("proxy", Kind.INIT, ready=False)}, app)
    ready = {c.type: c for c in unready.conditions}["Ready"]
    assert ready.status == "False" and ready.message == "containers with unready status: [proxy]"
    assert {c.type: c.status for c in _status(p, {"proxy": _facts("proxy", Kind.INIT, ready=True)},
                                              app).conditions}["Ready"] == "True"


def test_an_unstarted_sidecar_keeps_the_pod_initializing():
    p = pod(init=(("proxy", True),))
    status_ = _status(p, {"proxy": _facts("proxy", Kind.INIT, started=False)}, {})
    assert status_.phase == PENDING
    initialized = {c.type: c for c in status_.conditions}["Initialized"]
    assert initialized.status == "False" and initialized.message == "containers with incomplete status: [proxy]"


def test_ready_to_start_containers_follows_the_sandbox():
    p = pod()
    app = {"app": _facts("app", Kind.APP, ready=True)}
    conditions = {c.type: c for c in _status(p, {}, app).conditions}
    assert list(conditions)[:2] == ["PodScheduled", "PodReadyToStartContainers"]
    assert conditions["PodReadyToStartContainers"].status == "True"
    no_sandbox = {c.type: c for c in pod_status(p, PodFacts(init={}, app={})).conditions}
    waiting = no_sandbox["PodReadyToStartContainers"]
    assert waiting.status == "False" and not waiting.message
