"""The CronJob controller against a real API server, hollow nodes running the Jobs' pods.

Schedules run by the minute, so rather than wait for the clock these tests move status.lastScheduleTime
back, as a controller manager that was down for a while would find it: the schedule is `M * * * *` with
M a few minutes ago, so exactly one scheduled time is due and the next is most of an hour away.
"""
import time

import pytest

from controlplane.api.kinds import KINDS
from controlplane.client import errors
from controlplane.controllers import cronjob
from controlplane.controllers import pods as podutil
from tests.controllers.support import eventually


def cron_job(minute: int, **spec):
    return KINDS["CronJob"].new(
        metadata={"name": "tick", "namespace": "default"},
        spec={"schedule": f"{minute} * * * *", "job_template": {"spec": {"template": {"spec": {
            "restart_policy": "Never",
            "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "3600"]}]}}}}, **spec})


def due_minute() -> tuple[int, int]:
    """(a minute of the hour 3 minutes ago, the Unix time of that minute)."""
    due = (int(time.time()) // 60 - 3) * 60
    return time.gmtime(due).tm_min, due


async def owned_jobs(client, cj) -> list:
    jobs = (await client.resource("Job").list(namespace="default")).items
    return [j for j in jobs if (ref := podutil.controller_ref(j)) is not None and ref.uid == cj.metadata.uid
            and not podutil.is_deleting(j)]


async def as_if_down_since(api, seconds_ago: int):
    """Set lastScheduleTime `seconds_ago` back: the controller sees every time since as missed."""
    for _ in range(20):
        cj = await api.get("tick")
        cj.status.last_schedule_time.seconds = int(time.time()) - seconds_ago
        try:
            return await api.update_status(cj)
        except errors.Conflict:   # the controller wrote status meanwhile
            continue
    raise AssertionError("the CronJob's status kept changing")


async def test_after_downtime_one_catch_up_run_starts(client, manager, nodes):
    api = client.resource("CronJob")
    minute, due = due_minute()
    cj = await api.create(cron_job(minute))
    await as_if_down_since(api, 3 * 3600 + 60)   # three scheduled times missed

    async def ran():
        jobs = await owned_jobs(client, cj)
        return jobs if jobs else None
    (job,) = await eventually(ran)
    assert job.metadata.name == f"tick-{due // 60}"
    cj = await eventually(lambda: _status_with_active(api))
    assert cj.status.last_schedule_time.seconds == due
    assert [ref.name for ref in cj.status.active] == [job.metadata.name]

    async def its_pods():   # the Job controller makes the pod a moment after the Job
        return (await client.resource("Pod").list(namespace="default",
                                                  label_selector=f"job-name={job.metadata.name}")).items
    await eventually(its_pods, what="the catch-up Job's pod")
    assert len(await its_pods()) == 1
    assert len(await owned_jobs(client, cj)) == 1   # and no second one


async def _status_with_active(api):
    cj = await api.get("tick")
    return cj if cj.status.active else None


async def test_more_than_100_missed_times_warn_and_skip(client, manager):
    api = client.resource("CronJob")
    cj = await api.create(cron_job(0, schedule="*/1 * * * *"))
    await as_if_down_since(api, 3 * 3600)

    async def warned():
        events = (await client.resource("Event").list(namespace="default")).items
        return [e for e in events if e.reason == "TooManyMissedTimes" and e.involved_object.uid == cj.metadata.uid]
    (event,) = await eventually(warned)
    assert "Set or decrease .spec.startingDeadlineSeconds" in event.message
    cj = await api.get("tick")
    assert time.time() - cj.status.last_schedule_time.seconds < 120   # the schedule resumes from here
    skipped = f"tick-{cj.status.last_schedule_time.seconds // 60}"
    assert skipped not in {j.metadata.name for j in await owned_jobs(client, cj)}


@pytest.mark.parametrize("policy, expect_running", [("Allow", 2), ("Forbid", 1), ("Replace", 1)])
async def test_concurrency_policy(client, manager, nodes, policy, expect_running):
    api, job_api = client.resource("CronJob"), client.resource("Job")
    minute, due = due_minute()
    cj = await api.create(cron_job(minute, concurrency_policy=policy))
    earlier = cronjob.job_for(cj, cronjob._utc(due - 3600))   # a run of an hour ago, still going
    earlier = await job_api.create(earlier)
    await eventually(lambda: _status_with_active(api))
    await as_if_down_since(api, 3600 + 120)

    async def settled():
        cj_now = await api.get("tick")
        names = {j.metadata.name for j in await owned_jobs(client, cj)}
        if policy == "Forbid":
            return names == {earlier.metadata.name} and cj_now.status.last_schedule_time.seconds < due and names
        return cj_now.status.last_schedule_time.seconds == due and len(names) == expect_running and names
    names = await eventually(settled)
    assert (earlier.metadata.name in names) == (policy != "Replace")
    if policy != "Forbid":
        assert f"tick-{due // 60}" in names
