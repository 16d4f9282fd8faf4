"""CronJob rules (cronjob.py's pure part): what is due, catch-up after downtime, Forbid, history, names."""
import datetime

from controlplane.api import defaults
from controlplane.api.kinds import KINDS
from controlplane.controllers import cronjob
from controlplane.controllers.job import COMPLETE, FAILED

T0 = int(datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.timezone.utc).timestamp())   # a Sunday, 10:00


def cron_job(schedule="*/1 * * * *", *, created=T0, last=None, **spec):
    cj = KINDS["CronJob"].new(metadata={"name": "tick", "namespace": "default", "uid": "cj-uid"},
                              spec={"schedule": schedule, "job_template": {"spec": {"template": {"spec": {
                                  "restart_policy": "Never",
                                  "containers": [{"name": "c", "image": "busybox"}]}}}}, **spec})
    cj.metadata.creation_timestamp.seconds = created
    if last is not None:
        cj.status.last_schedule_time.seconds = last
    defaults.apply_defaults(cj)
    return cj


def test_nothing_due_until_the_first_scheduled_time():
    decision = cronjob.next_run(cron_job(), now=T0 + 30, active=0)
    assert decision.outcome == cronjob.NOTHING_DUE and decision.wake_in == 30


def test_a_due_time_runs_once():
    decision = cronjob.next_run(cron_job(), now=T0 + 65, active=0)
    assert decision.outcome == cronjob.RUN and decision.scheduled.timestamp() == T0 + 60 and decision.missed == 1
    after = cronjob.next_run(cron_job(last=T0 + 60), now=T0 + 70, active=0)
    assert after.outcome == cronjob.NOTHING_DUE and after.wake_in == 50


def test_after_downtime_only_the_most_recent_missed_time_runs():
    decision = cronjob.next_run(cron_job(last=T0), now=T0 + 10 * 60 + 5, active=0)
    assert decision.outcome == cronjob.RUN and decision.missed == 10
    assert decision.scheduled.timestamp() == T0 + 600


def test_more_than_100_missed_times_are_skipped_unless_a_deadline_bounds_them():
    decision = cronjob.next_run(cron_job(last=T0), now=T0 + 3 * 3600, active=0)
    assert decision.outcome == cronjob.TOO_MANY_MISSED and decision.missed == 101
    bounded = cronjob.next_run(cron_job(last=T0, starting_deadline_seconds=200), now=T0 + 3 * 3600 + 5, active=0)
    assert bounded.outcome == cronjob.RUN and bounded.missed == 4   # 12:57 ... 13:00


def test_starting_deadline_drops_a_time_too_old_to_start():
    cj = cron_job("0 * * * *", last=T0, starting_deadline_seconds=60)
    assert cronjob.next_run(cj, now=T0 + 3600 + 30, active=0).outcome == cronjob.RUN
    assert cronjob.next_run(cj, now=T0 + 3600 + 90, active=0).outcome == cronjob.NOTHING_DUE


def test_forbid_holds_the_run_back_while_a_job_is_active():
    cj = cron_job(last=T0, concurrency_policy="Forbid")
    assert cronjob.next_run(cj, now=T0 + 65, active=1).outcome == cronjob.FORBIDDEN
    assert cronjob.next_run(cj, now=T0 + 65, active=0).outcome == cronjob.RUN
    allow = cron_job(last=T0)
    assert cronjob.next_run(allow, now=T0 + 65, active=3).outcome == cronjob.RUN


def test_time_zone_moves_the_schedule():
    cj = cron_job("0 11 * * *", last=T0, time_zone="Europe/Paris")   # 11:00 in Paris is 10:00 UTC in March
    assert cronjob.next_run(cj, now=T0 + 30, active=0).wake_in == 24 * 3600 - 30
    utc = cron_job("0 11 * * *", last=T0)
    assert cronjob.next_run(utc, now=T0 + 30, active=0).wake_in == 3600 - 30


def test_the_job_is_named_by_its_minute_and_owned():
    cj = cron_job(job_template={"metadata": {"labels": {"team": "a"}},
                                "spec": {"template": {"spec": {"restart_policy": "Never",
                                                               "containers": [{"name": "c", "image": "b"}]}}}})
    scheduled = datetime.datetime.fromtimestamp(T0 + 60, datetime.timezone.utc)
    job = cronjob.job_for(cj, scheduled)
    assert job.metadata.name == f"tick-{(T0 + 60) // 60}"
    assert job.metadata.labels["team"] == "a"
    assert job.metadata.annotations[cronjob.SCHEDULED_TIMESTAMP] == "2026-03-01T10:01:00Z"
    assert job.metadata.owner_references[0].kind == "CronJob" and job.metadata.owner_references[0].controller


def finished(name, kind, start):
    job = KINDS["Job"].new(metadata={"name": name, "uid": name})
    job.status.start_time.seconds = start
    job.status.conditions.add(type=kind, status="True")
    return job


def test_history_limits_delete_the_oldest_finished_jobs():
    cj = cron_job(successful_jobs_history_limit=2, failed_jobs_history_limit=0)
    jobs = [finished(f"ok{i}", COMPLETE, T0 + i) for i in range(4)] + [finished("bad", FAILED, T0)]
    running = KINDS["Job"].new(metadata={"name": "run", "uid": "run"})
    doomed = cronjob.history_to_delete(cj, jobs + [running])
    assert sorted(j.metadata.name for j in doomed) == ["bad", "ok0", "ok1"]
    active, newly_done = cronjob.active_status(cj, jobs + [running])
    assert [r.name for r in active] == ["run"] and newly_done == []
