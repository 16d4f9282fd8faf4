"""The CronJob controller: make a Job at each scheduled time, within the CronJob's policies.

Each sync of a CronJob: bring status.active up to date from its Jobs
(finished or deleted ones leave it; lastSuccessfulTime follows completions),
delete finished Jobs beyond the history limits, then, unless suspended, ask
`next_run` (pure, below) whether a scheduled time is due: the most recent
time since status.lastScheduleTime (or the CronJob's creation) not older than
startingDeadlineSeconds. As in Kubernetes, however many times were missed
(the controller manager was down, or Forbid held a run back) at most that one
catch-up run starts; more than 100 missed times is reported as a
TooManyMissedTimes warning and that run is skipped (the schedule resumes
from the next time). Forbid waits while a Job runs; Replace deletes the
running Jobs first. The Job is named <cronjob>-<scheduled minute since 1970>,
so a restarted controller that runs the same time again finds it already made.
Then the key is queued for the next scheduled time.
"""
import datetime
import time
from dataclasses import dataclass

from google.protobuf.message import Message

from controlplane.api import cronschedule
from controlplane.api.kinds import KINDS
from controlplane.api.v1 import meta_pb2
from controlplane.client import errors
from controlplane.client.events import NORMAL, WARNING
from controlplane.client.informer import key_of
from controlplane.controllers import pods as podutil
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.job import COMPLETE, FAILED, finished_condition
from controlplane.controllers.ownership import clone

SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MAX_MISSED = 100

# next_run outcomes
NOTHING_DUE, RUN, TOO_MANY_MISSED, FORBIDDEN = "nothing due", "run", "too many missed", "forbidden"


# ------------------------------------------------------------------ pure rules

def _utc(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


def schedule_of(cj: Message) -> cronschedule.Schedule:
    spec = cj.spec
    return cronschedule.parse(spec.schedule, time_zone=spec.time_zone if spec.HasField("time_zone") else None)


@dataclass
class Decision:
    outcome: str
    scheduled: datetime.datetime | None = None   # the time to run (RUN), or the skipped one
    missed: int = 0                              # scheduled times since the last run, up to 101
    wake_in: float | None = None                 # seconds until the next scheduled time


def next_run(cj: Message, *, now: float, active: int) -> Decision:
    """What is due for `cj` at `now` with `active` Jobs running."""
    schedule = schedule_of(cj)
    at = _utc(now)
    last = cj.status.last_schedule_time if cj.status.HasField("last_schedule_time") \
        else cj.metadata.creation_timestamp
    earliest = _utc(last.seconds)
    if cj.spec.HasField("starting_deadline_seconds"):
        earliest = max(earliest, _utc(now - cj.spec.starting_deadline_seconds))
    upcoming = schedule.next(at)
    wake_in = (upcoming - at).total_seconds() if upcoming is not None else None
    recent = schedule.previous(at)
    if recent is None or recent <= earliest:
        return Decision(NOTHING_DUE, wake_in=wake_in)
    missed, t = 0, earliest
    while missed <= MAX_MISSED and (t := schedule.next(t)) is not None and t <= at:
        missed += 1
    if missed > MAX_MISSED:
        return Decision(TOO_MANY_MISSED, scheduled=recent, missed=missed, wake_in=wake_in)
    if cj.spec.concurrency_policy == "Forbid" and active:
        # lastScheduleTime stays: the held-back time is the catch-up run once the active Job ends.
        return Decision(FORBIDDEN, scheduled=recent, missed=missed, wake_in=wake_in)
    return Decision(RUN, scheduled=recent, missed=missed, wake_in=wake_in)


def job_name(cj: Message, scheduled: datetime.datetime) -> str:
    return f"{cj.metadata.name}-{int(scheduled.timestamp()) // 60}"


def job_for(cj: Message, scheduled: datetime.datetime) -> Message:
    """The Job for the run at `scheduled`: the job template, owned by the CronJob."""
    template = cj.spec.job_template
    job = KINDS["Job"].new()
    job.metadata.name = job_name(cj, scheduled)
    job.metadata.namespace = cj.metadata.namespace
    job.metadata.labels.update(template.metadata.labels)
    job.metadata.annotations.update(template.metadata.annotations)
    job.metadata.annotations[SCHEDULED_TIMESTAMP] = scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")
    job.metadata.owner_references.append(podutil.owner_reference(cj))
    job.spec.CopyFrom(template.spec)
    return job


def history_to_delete(cj: Message, jobs: list[Message]) -> list[Message]:
    """Finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit, oldest first."""
    doomed = []
    for kind, limit in ((COMPLETE, cj.spec.successful_jobs_history_limit),
                        (FAILED, cj.spec.failed_jobs_history_limit)):
        done = [j for j in jobs if (c := finished_condition(j)) is not None and c.type == kind
                and not podutil.is_deleting(j)]
        done.sort(key=lambda j: (j.status.start_time.seconds or j.metadata.creation_timestamp.seconds,
                                 j.metadata.name))
        doomed += done[:max(len(done) - limit, 0)]
    return doomed


def reference(job: Message) -> meta_pb2.ObjectReference:
    return meta_pb2.ObjectReference(kind="Job", api_version="batch/v1", namespace=job.metadata.namespace,
                                    name=job.metadata.name, uid=job.metadata.uid,
                                    resource_version=job.metadata.resource_version)


def active_status(cj: Message, jobs: list[Message]) -> tuple[list[meta_pb2.ObjectReference], list[Message]]:
    """(status.active as it should be: the CronJob's unfinished Jobs, oldest first; Jobs that
    finished since status.active last listed them)."""
    listed = {ref.uid for ref in cj.status.active}
    running = [j for j in jobs if finished_condition(j) is None and not podutil.is_deleting(j)]
    running.sort(key=lambda j: (j.metadata.creation_timestamp.seconds, j.metadata.name))
    newly_done = [j for j in jobs if j.metadata.uid in listed and finished_condition(j) is not None]
    return [reference(j) for j in running], newly_done


# ------------------------------------------------------------------ the controller

class CronJobController(Controller):
    name = "cronjob"
    workers = 2

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.cronjobs = ctx.informers.informer("CronJob")
        self.jobs = ctx.informers.informer("Job")
        self.jobs.add_index(podutil.BY_CONTROLLER, podutil.index_by_controller)
        self.api = ctx.client.resource("CronJob")
        self.job_api = ctx.client.resource("Job")
        self.follow(self.cronjobs)
        self.follow(self.jobs, self._owner_key)

    def _owner_key(self, job: Message):
        ref = podutil.controller_ref(job)
        if ref is None or ref.kind != "CronJob":
            return None
        cj = self.cronjobs.get(ref.name, job.metadata.namespace)
        return key_of(cj) if cj is not None and cj.metadata.uid == ref.uid else None

    async def sync(self, key) -> None:
        namespace, name = key
        cj = self.cronjobs.get(name, namespace)
        if cj is None:
            return
        jobs = self.jobs.by_index(podutil.BY_CONTROLLER, cj.metadata.uid)
        jobs += await self._listed_but_not_cached(cj, jobs)
        status = clone(cj).status
        active, newly_done = active_status(cj, jobs)
        del status.active[:]
        status.active.extend(active)
        for job in newly_done:
            done = finished_condition(job)
            self.recorder.event(cj, NORMAL, "SawCompletedJob",
                                f"Saw completed job: {job.metadata.name}, condition: {done.type}")
            if done.type == COMPLETE and job.status.HasField("completion_time") and \
                    job.status.completion_time.seconds > status.last_successful_time.seconds:
                status.last_successful_time.CopyFrom(job.status.completion_time)
        if not podutil.is_deleting(cj):
            for job in history_to_delete(cj, jobs):
                await self._delete_job(cj, job)
            if not cj.spec.suspend:
                await self._maybe_run(cj, status)
        if status != cj.status:
            new = clone(cj)
            new.status.CopyFrom(status)
            await self.api.update_status(new)

    async def _listed_but_not_cached(self, cj: Message, jobs: list[Message]) -> list[Message]:
        """Jobs in status.active that the cache does not have (yet, or any more): read from the API."""
        cached = {j.metadata.uid for j in jobs}
        found = []
        for ref in cj.status.active:
            if ref.uid in cached:
                continue
            try:
                job = await self.job_api.get(ref.name, namespace=cj.metadata.namespace)
            except errors.NotFound:
                job = None
            if job is not None and job.metadata.uid == ref.uid:
                found.append(job)
            else:
                self.recorder.event(cj, NORMAL, "MissingJob", f"Active job went missing: {ref.name}")
        return found

    async def _maybe_run(self, cj: Message, status: Message) -> None:
        """Start the Job that is due, if one is (updating `status`); queue the next look."""
        now = time.time()
        decision = next_run(cj, now=now, active=len(status.active))
        if decision.wake_in is not None:
            self.queue.add_after(key_of(cj), decision.wake_in + 0.1)
        if decision.outcome == TOO_MANY_MISSED:
            self.recorder.event(cj, WARNING, "TooManyMissedTimes",
                                f"too many missed start times (> {MAX_MISSED}); skipped the run at "
                                f"{decision.scheduled:%Y-%m-%dT%H:%M:%SZ}. Set or decrease "
                                ".spec.startingDeadlineSeconds or check clock skew")
            status.last_schedule_time.FromDatetime(decision.scheduled)
            return
        if decision.outcome != RUN:
            return
        if cj.spec.concurrency_policy == "Replace":
            for ref in status.active:
                job = self.jobs.get(ref.name, cj.metadata.namespace)
                if job is not None:
                    await self._delete_job(cj, job)
            del status.active[:]
        job = job_for(cj, decision.scheduled)
        try:
            created = await self.job_api.create(job)
            self.recorder.event(cj, NORMAL, "SuccessfulCreate", f"Created job {created.metadata.name}")
        except errors.AlreadyExists:
            created = await self.job_api.get(job.metadata.name, namespace=cj.metadata.namespace)
            ref = podutil.controller_ref(created)
            if ref is None or ref.uid != cj.metadata.uid:
                self.recorder.event(cj, WARNING, "FailedCreate",
                                    f"Error creating job: job {job.metadata.name} exists and is not ours")
                return
        if all(ref.uid != created.metadata.uid for ref in status.active) and finished_condition(created) is None:
            status.active.append(reference(created))
        status.last_schedule_time.FromDatetime(decision.scheduled)

    async def _delete_job(self, cj: Message, job: Message) -> None:
        try:
            await self.job_api.delete(job.metadata.name, namespace=job.metadata.namespace, uid=job.metadata.uid,
                                      propagation_policy="Background")
        except errors.NotFound:
            return
        self.recorder.event(cj, NORMAL, "SuccessfulDelete", f"Deleted job {job.metadata.name}")
