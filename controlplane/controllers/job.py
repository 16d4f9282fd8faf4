"""The Job controller: run pods until enough succeed, or give up.

A Job keeps up to `parallelism` pods running until `completions` of them
have succeeded (without completions: until one has, and the rest finished).
Failed pods count against `backoffLimit` (with restartPolicy OnFailure the
container restarts count); each new pod after a failure waits an
exponential back-off. Past the limit, or past `activeDeadlineSeconds`, the
Job fails: its running pods are deleted and it gets the Failed condition.
`ttlSecondsAfterFinished` deletes a finished Job (and, through the garbage
collector, its pods).
"""
import dataclasses
import time

from google.protobuf.message import Message

from controlplane.api.v1 import batch_pb2
from controlplane.client import errors
from controlplane.client.events import NORMAL, WARNING
from controlplane.client.informer import key_of
from controlplane.controllers import pods as podutil
from controlplane.controllers.conditions import condition, set_condition
from controlplane.controllers.ownership import clone
from controlplane.controllers.podowner import PodOwnerController

COMPLETE, FAILED, SUSPENDED = "Complete", "Failed", "Suspended"
MAX_BACKOFF_SECONDS = 360.0


def finished_condition(job: Message):
    """The Complete or Failed condition that is True, or None while the Job runs."""
    return next((c for c in job.status.conditions if c.type in (COMPLETE, FAILED) and c.status == "True"),
                None)


@dataclasses.dataclass
class Plan:
    """What one sync decided for a Job."""
    create: int = 0                    # pods to create now
    delete: list = dataclasses.field(default_factory=list)  # pods to delete now
    failure: tuple[str, str] | None = None   # (reason, message): the Job failed
    complete: bool = False
    retry_in: float | None = None      # look again after this many seconds


def _failed_at(pod: Message) -> float:
    finished = [s.state.terminated.finished_at.seconds for s in pod.status.container_statuses
                if s.state.HasField("terminated")]
    return max(finished, default=0) or pod.metadata.creation_timestamp.seconds


def plan(job: Message, pods: list[Message], *, now: float, backoff_base: float) -> tuple[Plan, batch_pb2.JobStatus]:
    """Decide the next step for `job` from its pods; returns the plan and the new status."""
    spec = job.spec
    active = [p for p in pods if podutil.is_active(p)]
    failed_pods = [p for p in pods if p.status.phase == "Failed"]
    status = batch_pb2.JobStatus()
    status.CopyFrom(job.status)
    status.succeeded = max(job.status.succeeded, sum(1 for p in pods if p.status.phase == "Succeeded"))
    status.failed = max(job.status.failed, len(failed_pods))
    status.ready = sum(1 for p in active if podutil.is_ready(p))
    suspended = spec.HasField("suspend") and spec.suspend
    if not status.HasField("start_time") and not suspended:
        status.start_time.seconds = int(now)
    result = Plan()
    restarts = sum(podutil.restarts(p) for p in active) if spec.template.spec.restart_policy == "OnFailure" else 0
    limit = spec.backoff_limit if spec.HasField("backoff_limit") else 6
    deadline = spec.active_deadline_seconds if spec.HasField("active_deadline_seconds") else 0
    running_for = now - status.start_time.seconds if status.HasField("start_time") else 0
    if status.failed > limit or (restarts and restarts >= limit):
        result.failure = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    elif deadline and running_for >= deadline:
        result.failure = ("DeadlineExceeded", "Job was active longer than specified deadline")
    if result.failure or suspended:
        result.delete = active
        status.active = 0
        if result.failure:
            set_condition(status, FAILED, "True", *result.failure, now)
        else:
            set_condition(status, SUSPENDED, "True", "JobSuspended", "Job suspended", now)
        return result, status
    if condition(status, SUSPENDED) is not None:
        set_condition(status, SUSPENDED, "False", "JobResumed", "Job resumed", now)
    parallelism = spec.parallelism if spec.HasField("parallelism") else 1
    if spec.HasField("completions"):
        result.complete = status.succeeded >= spec.completions
        wanted = 0 if result.complete else min(parallelism, spec.completions - status.succeeded)
    else:
        result.complete = status.succeeded > 0 and not active
        wanted = 0 if status.succeeded > 0 else parallelism
    if len(active) > wanted:
        result.delete = sorted(active, key=lambda p: podutil.deletion_rank(p, now))[:len(active) - wanted]
    elif len(active) < wanted:
        wait = 0.0
        if failed_pods:
            delay = min(backoff_base * 2 ** (len(failed_pods) - 1), MAX_BACKOFF_SECONDS)
            wait = max(max(_failed_at(p) for p in failed_pods) + delay - now, 0)
        if wait > 0:
            result.retry_in = wait
        else:
            result.create = wanted - len(active)
    status.active = len(active) + result.create - len(result.delete)
    if result.complete:
        status.active = 0
        set_condition(status, COMPLETE, "True", "", "", now)
        if not status.HasField("completion_time"):
            status.completion_time.seconds = int(now)
    elif deadline:
        left = status.start_time.seconds + deadline - now
        result.retry_in = min(result.retry_in or left, left)
    return result, status


class JobController(PodOwnerController):
    name = "job"
    owner_kind = "Job"
    workers = 5
    min_sync_interval = 0.1

    async def sync(self, key) -> None:
        job = self.owner_of_key(key)
        if job is None:
            return
        if podutil.is_deleting(job):
            return
        if (done := finished_condition(job)) is not None:
            await self._expire(job, done)
            return
        pods = await self.claim_pods(job)
        if not self.expectations.satisfied(key):
            return  # our own creations and deletions are still arriving; their events requeue us
        now = time.time()
        step, status = plan(job, pods, now=now, backoff_base=self.options.job_backoff_seconds)
        if step.delete:
            await self.delete_pods(job, step.delete)
        if step.create:
            await self.create_pods(job, step.create)
        if status != job.status:
            new = clone(job)
            new.status.CopyFrom(status)
            job = await self.api.update_status(new)
        if step.failure:
            self.recorder.event(job, WARNING, step.failure[0], step.failure[1])
        elif step.complete:
            self.recorder.event(job, NORMAL, "Completed", "Job completed")
        if step.retry_in is not None:
            self.queue.add_after(key, step.retry_in + 0.05)
        if (done := finished_condition(job)) is not None:
            await self._expire(job, done)

    async def _expire(self, job: Message, done) -> None:
        """Delete a finished Job once its ttlSecondsAfterFinished has passed."""
        if not job.spec.HasField("ttl_seconds_after_finished"):
            return
        left = done.last_transition_time.seconds + job.spec.ttl_seconds_after_finished - time.time()
        if left > 0:
            self.queue.add_after(key_of(job), left + 0.05)
            return
        try:
            await self.api.delete(job.metadata.name, namespace=job.metadata.namespace, uid=job.metadata.uid,
                                  propagation_policy="Foreground")
        except errors.NotFound:
            pass
