"""ReplicaSets, Deployments, DaemonSets, StatefulSets, Jobs and CronJobs: counts, strategies, and the pod template.

A workload's selector must match its template's labels (or its controller
would never see the pods it creates, and create more forever), and it may
not change later (or the workload would orphan its pods).
"""
import re

from controlplane.api import cronschedule, names, selectors
from controlplane.api.errors import FieldError
from controlplane.api.validation import meta, pods, storage
from controlplane.api.validation.common import (Errors, at_least, duplicate, immutable, label_selector,
                                                labels, one_of, optional_at_least, optional_value,
                                                required_syntax, syntax)

_PERCENT = re.compile(r"\d+%")


def _template(path: str, spec, *, restart_policies: tuple[str, ...], selector_required: bool = True,
              claim_volumes: frozenset[str] = frozenset()) -> Errors:
    """spec.selector and spec.template together: both valid, and the one selects the other.

    A CronJob's job template may leave the selector out: each Job gets one when it is made."""
    template = spec.template
    yield from labels(f"{path}.template.metadata.labels", template.metadata.labels)
    yield from meta.annotations(f"{path}.template.metadata.annotations", template.metadata.annotations)
    yield from pods.pod_spec(f"{path}.template.spec", template.spec, claim_volumes=claim_volumes)
    yield from one_of(f"{path}.template.spec.restartPolicy", template.spec.restart_policy, restart_policies)
    if not spec.HasField("selector"):
        if selector_required:
            yield FieldError(f"{path}.selector", "required")
        return
    selector_errors = list(label_selector(f"{path}.selector", spec.selector))
    yield from selector_errors
    if selector_errors:
        return
    selector = selectors.from_label_selector(spec.selector)
    if selector.empty:
        yield FieldError(f"{path}.selector", "empty selector is invalid: it would select every pod")
    elif not selector.matches(template.metadata.labels):
        yield FieldError(f"{path}.template.metadata.labels", f'`selector` ("{selector}") does not match '
                         "template `labels`")


# ---------------------------------------------------------------- ReplicaSet, Deployment

def validate_replica_set(obj) -> Errors:
    """A ReplicaSet; for a Deployment, what it shares with one."""
    spec = obj.spec
    yield from meta.object_meta(obj, names.dns_subdomain)
    yield from optional_at_least(spec, "replicas", "spec.replicas", 0)
    yield from at_least("spec.minReadySeconds", spec.min_ready_seconds, 0)
    yield from _template("spec", spec, restart_policies=("Always",))


def selector_update_rules(new, old) -> Errors:
    yield from immutable("spec.selector", new.spec.selector, old.spec.selector)


def validate_deployment(deployment) -> Errors:
    spec = deployment.spec
    yield from validate_replica_set(deployment)
    yield from optional_at_least(spec, "revision_history_limit", "spec.revisionHistoryLimit", 0)
    if spec.HasField("progress_deadline_seconds") and spec.progress_deadline_seconds <= spec.min_ready_seconds:
        yield FieldError("spec.progressDeadlineSeconds", "must be greater than minReadySeconds")
    yield from _strategy("spec.strategy", spec.strategy)


def _strategy(path: str, strategy, *, other: str = "Recreate") -> Errors:
    """A Deployment's strategy (RollingUpdate or Recreate), or a DaemonSet's (other="OnDelete")."""
    yield from one_of(f"{path}.type", strategy.type, ("RollingUpdate", other))
    if strategy.type == other and strategy.HasField("rolling_update"):
        yield FieldError(f"{path}.rollingUpdate", f"may not be specified when strategy `type` is '{other}'")
    if strategy.type == other:
        return
    rolling = strategy.rolling_update
    unavailable = yield from count_or_percent(f"{path}.rollingUpdate.maxUnavailable", rolling.max_unavailable)
    surge = yield from count_or_percent(f"{path}.rollingUpdate.maxSurge", rolling.max_surge)
    if unavailable == 0 and surge == 0:
        yield FieldError(f"{path}.rollingUpdate.maxUnavailable", "may not be 0 when `maxSurge` is 0")
    if isinstance(unavailable, str) and int(unavailable[:-1]) > 100:
        yield FieldError(f"{path}.rollingUpdate.maxUnavailable", "must not be greater than 100%")


def count_or_percent(path: str, value):
    """Yield the errors of an IntOrString that is a count or "N%", and return its value
    (0 for zero in either form, the string for another percentage, None if unset or wrong)."""
    which = value.WhichOneof("kind")
    if which == "number_value":
        if value.number_value < 0:
            yield FieldError(path, "must be greater than or equal to 0")
        return int(value.number_value)
    if which == "string_value":
        if not _PERCENT.fullmatch(value.string_value):
            yield FieldError(path, f'"{value.string_value}": must be an integer or a percentage like "25%"')
            return None
        return 0 if int(value.string_value[:-1]) == 0 else value.string_value
    return None


# ---------------------------------------------------------------- DaemonSet

def validate_daemon_set(daemon_set) -> Errors:
    spec = daemon_set.spec
    yield from meta.object_meta(daemon_set, names.dns_subdomain)
    yield from at_least("spec.minReadySeconds", spec.min_ready_seconds, 0)
    yield from _template("spec", spec, restart_policies=("Always",))
    yield from _strategy("spec.updateStrategy", spec.update_strategy, other="OnDelete")


# ---------------------------------------------------------------- StatefulSet

def validate_stateful_set(stateful_set) -> Errors:
    spec = stateful_set.spec
    yield from meta.object_meta(stateful_set, names.dns_label)  # its pods' names are labels: NAME-0
    yield from optional_at_least(spec, "replicas", "spec.replicas", 0)
    yield from at_least("spec.minReadySeconds", spec.min_ready_seconds, 0)
    yield from at_least("spec.ordinals.start", spec.ordinals.start, 0)
    yield from optional_at_least(spec, "revision_history_limit", "spec.revisionHistoryLimit", 0)
    yield from _template("spec", spec, restart_policies=("Always",),
                         claim_volumes=frozenset(c.metadata.name for c in spec.volume_claim_templates))
    if spec.service_name:
        yield from syntax("spec.serviceName", spec.service_name, names.dns1035_label)
    yield from one_of("spec.podManagementPolicy", spec.pod_management_policy, ("OrderedReady", "Parallel"))
    strategy = spec.update_strategy
    yield from one_of("spec.updateStrategy.type", strategy.type, ("RollingUpdate", "OnDelete"))
    if strategy.type == "OnDelete" and strategy.HasField("rolling_update"):
        yield FieldError("spec.updateStrategy.rollingUpdate", "may not be specified when strategy `type` is 'OnDelete'")
    yield from optional_at_least(strategy.rolling_update, "partition", "spec.updateStrategy.rollingUpdate.partition", 0)
    if strategy.rolling_update.max_unavailable.WhichOneof("kind") is not None:
        # Kubernetes has it behind a feature gate (MaxUnavailableStatefulSet); one pod at a time here.
        yield FieldError("spec.updateStrategy.rollingUpdate.maxUnavailable", "not supported")
    retention = spec.persistent_volume_claim_retention_policy
    yield from one_of("spec.persistentVolumeClaimRetentionPolicy.whenDeleted", retention.when_deleted, ("Retain", "Delete"))
    yield from one_of("spec.persistentVolumeClaimRetentionPolicy.whenScaled", retention.when_scaled, ("Retain", "Delete"))
    seen = set()
    for index, claim in enumerate(spec.volume_claim_templates):
        here = f"spec.volumeClaimTemplates[{index}]"
        yield from required_syntax(f"{here}.metadata.name", claim.metadata.name, names.dns_label)
        yield from duplicate(f"{here}.metadata.name", claim.metadata.name, seen)
        yield from labels(f"{here}.metadata.labels", claim.metadata.labels)
        yield from storage.claim_spec(f"{here}.spec", claim.spec)


def stateful_set_update_rules(new, old) -> Errors:
    """Only replicas, template, updateStrategy, minReadySeconds, revisionHistoryLimit, ordinals and the
    retention policy may change, as in Kubernetes."""
    for field, json_name in (("selector", "selector"), ("service_name", "serviceName"),
                             ("volume_claim_templates", "volumeClaimTemplates"),
                             ("pod_management_policy", "podManagementPolicy")):
        yield from immutable(f"spec.{json_name}", getattr(new.spec, field), getattr(old.spec, field))


def validate_controller_revision(revision) -> Errors:
    """Metadata and the revision number only: the template was checked as part of its StatefulSet (and
    is never run as it is), as in Kubernetes."""
    yield from meta.object_meta(revision, names.dns_subdomain)
    yield from at_least("revision", revision.revision, 0)


def controller_revision_update_rules(new, old) -> Errors:
    yield from immutable("data", new.data, old.data)


# ---------------------------------------------------------------- Job

def validate_job(job) -> Errors:
    yield from meta.object_meta(job, names.dns_subdomain)
    if len(job.metadata.name) > 63:
        yield FieldError("metadata.name", "must be no more than 63 characters (it becomes a label value)")
    yield from _job_spec("spec", job.spec, selector_required=True)


def _job_spec(path: str, spec, *, selector_required: bool) -> Errors:
    for field, json_name, low in (("parallelism", "parallelism", 0), ("completions", "completions", 0),
                                  ("active_deadline_seconds", "activeDeadlineSeconds", 1),
                                  ("backoff_limit", "backoffLimit", 0),
                                  ("ttl_seconds_after_finished", "ttlSecondsAfterFinished", 0)):
        yield from optional_at_least(spec, field, f"{path}.{json_name}", low)
    # Indexed Jobs (per-index pods and completion tracking) are not built: refuse them rather than run
    # them as NonIndexed, which would silently drop what the manifest asks for.
    yield from one_of(f"{path}.completionMode", spec.completion_mode or "NonIndexed", ("NonIndexed",))
    yield from _template(path, spec, restart_policies=("OnFailure", "Never"), selector_required=selector_required)


def job_update_rules(new, old) -> Errors:
    yield from selector_update_rules(new, old)
    yield from immutable("spec.template", new.spec.template, old.spec.template)
    yield from immutable("spec.completions", optional_value(new.spec, "completions"),
                         optional_value(old.spec, "completions"))
    yield from immutable("spec.completionMode", new.spec.completion_mode, old.spec.completion_mode)


# ---------------------------------------------------------------- CronJob

CRONJOB_NAME_MAX = 52   # its Jobs are named <name>-<minutes since 1970>, 11 more characters


def validate_cron_job(cron_job) -> Errors:
    spec = cron_job.spec
    yield from meta.object_meta(cron_job, names.dns_subdomain)
    if len(cron_job.metadata.name) > CRONJOB_NAME_MAX:
        yield FieldError("metadata.name", f"must be no more than {CRONJOB_NAME_MAX} characters")
    time_zone = spec.time_zone if spec.HasField("time_zone") else None
    try:
        cronschedule.zone(time_zone)
    except cronschedule.ScheduleError as e:
        yield FieldError("spec.timeZone", str(e))
        time_zone = None
    if not spec.schedule:
        yield FieldError("spec.schedule", "required")
    else:
        try:
            cronschedule.parse(spec.schedule, time_zone=time_zone)
        except cronschedule.ScheduleError as e:
            yield FieldError("spec.schedule", str(e))
    yield from one_of("spec.concurrencyPolicy", spec.concurrency_policy, ("Allow", "Forbid", "Replace"))
    for field, json_name in (("starting_deadline_seconds", "startingDeadlineSeconds"),
                             ("successful_jobs_history_limit", "successfulJobsHistoryLimit"),
                             ("failed_jobs_history_limit", "failedJobsHistoryLimit")):
        yield from optional_at_least(spec, field, f"spec.{json_name}", 0)
    template = spec.job_template
    yield from labels("spec.jobTemplate.metadata.labels", template.metadata.labels)
    yield from meta.annotations("spec.jobTemplate.metadata.annotations", template.metadata.annotations)
    yield from _job_spec("spec.jobTemplate.spec", template.spec, selector_required=False)
