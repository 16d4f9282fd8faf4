"""Job decisions without a server: how many pods, when complete, when failed."""
from controlplane.api import defaults
from controlplane.api.kinds import KINDS
from controlplane.controllers import job as jobs
from tests.controllers.builders import NOW, pod


def job(**spec):
    j = KINDS["Job"].new(metadata={"name": "j", "namespace": "default", "uid": "j-uid"},
                         spec={"template": {"spec": {"restart_policy": "Never",
                                                     "containers": [{"name": "c", "image": "busybox"}]}},
                               **spec})
    defaults.apply_defaults(j)
    return j


def plan(j, pods, now=NOW, base=10.0):
    return jobs.plan(j, pods, now=now, backoff_base=base)


def test_runs_up_to_parallelism_and_no_more_than_completions_left():
    j = job(completions=5, parallelism=2)
    step, status = plan(j, [])
    assert (step.create, status.active, status.start_time.seconds) == (2, 2, NOW)
    done = [pod(f"s{i}", phase="Succeeded", ready=False) for i in range(4)]
    step, status = plan(j, done)
    assert (step.create, status.succeeded) == (1, 4)
    step, status = plan(j, done + [pod("last", phase="Succeeded", ready=False)])
    assert step.complete and step.create == 0
    assert [(c.type, c.status) for c in status.conditions] == [("Complete", "True")]
    assert status.completion_time.seconds == NOW


def test_too_many_active_pods_are_deleted():
    j = job(completions=3, parallelism=1)
    step, _ = plan(j, [pod("a", created=0), pod("b", created=5)])
    assert [p.metadata.name for p in step.delete] == ["b"]


def test_without_completions_one_success_completes_once_the_rest_finish():
    j = job(parallelism=2)
    j.spec.ClearField("completions")
    step, _ = plan(j, [])
    assert step.create == 2
    step, _ = plan(j, [pod("ok", phase="Succeeded", ready=False), pod("busy")])
    assert (step.create, step.complete) == (0, False)
    step, _ = plan(j, [pod("ok", phase="Succeeded", ready=False)])
    assert step.complete


def test_failures_wait_an_exponential_back_off_then_past_the_limit_fail_the_job():
    j = job(completions=1, backoff_limit=2)
    one = [pod("f1", phase="Failed", ready=False, created=0)]
    step, status = plan(j, one, now=NOW + 5)
    assert (step.create, status.failed) == (0, 1) and step.retry_in == 5       # 10 s after the failure
    step, _ = plan(j, one, now=NOW + 11)
    assert step.create == 1
    two = one + [pod("f2", phase="Failed", ready=False, created=20)]
    assert plan(j, two, now=NOW + 30)[0].retry_in == 10                         # then 20 s
    three = two + [pod("f3", phase="Failed", ready=False, created=60), pod("running")]
    step, status = plan(j, three, now=NOW + 61)
    assert step.failure[0] == "BackoffLimitExceeded"
    assert [p.metadata.name for p in step.delete] == ["running"]
    assert [(c.type, c.status, c.reason) for c in status.conditions] == [("Failed", "True", "BackoffLimitExceeded")]


def test_restarts_count_as_failures_with_restart_policy_on_failure():
    j = job(completions=1, backoff_limit=3)
    j.spec.template.spec.restart_policy = "OnFailure"
    assert plan(j, [pod("r", restarts=2)])[0].failure is None
    assert plan(j, [pod("r", restarts=3)])[0].failure[0] == "BackoffLimitExceeded"


def test_active_deadline_fails_the_job():
    j = job(completions=1, active_deadline_seconds=30)
    j.status.start_time.seconds = NOW
    step, _ = plan(j, [pod("busy")], now=NOW + 10)
    assert step.failure is None and step.retry_in == 20
    step, status = plan(j, [pod("busy")], now=NOW + 30)
    assert step.failure[0] == "DeadlineExceeded" and len(step.delete) == 1


def test_a_suspended_job_runs_nothing():
    j = job(completions=2, suspend=True)
    step, status = plan(j, [pod("busy")])
    assert len(step.delete) == 1 and step.create == 0
    assert jobs.finished_condition(j) is None
    assert [(c.type, c.status) for c in status.conditions] == [("Suspended", "True")]
