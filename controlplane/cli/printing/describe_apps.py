"""describe for the workload kinds: deployments, replica sets, daemon sets, jobs."""
from controlplane.cli.printing.age import human_duration, is_set
from controlplane.cli.printing.columns import label_selector_text, map_selector_text
from controlplane.cli.printing.describe_pods import port_text, pod_template
from controlplane.cli.printing.page import NONE, Page, timestamp


def deployment(page: Page, deploy, related: dict, now: float) -> None:
    spec, status = deploy.spec, deploy.status
    _header(page, deploy)
    page.add("Replicas", f"{spec.replicas} desired | {status.updated_replicas} updated | "
                         f"{status.replicas} total | {status.available_replicas} available | "
                         f"{status.unavailable_replicas} unavailable")
    page.add("StrategyType", spec.strategy.type)
    page.add("MinReadySeconds", spec.min_ready_seconds)
    if spec.strategy.type == "RollingUpdate":
        rolling = spec.strategy.rolling_update
        page.add("RollingUpdateStrategy", f"{port_text(rolling.max_unavailable)} max unavailable, "
                                          f"{port_text(rolling.max_surge)} max surge")
    pod_template(page, spec.template)
    _conditions(page, status.conditions)
    owned = [rs for rs in related.get("replicasets", ()) if _owned_by(rs, deploy)]
    revision = deploy.metadata.annotations.get("deployment.kubernetes.io/revision")
    new = [rs for rs in owned if revision and
           rs.metadata.annotations.get("deployment.kubernetes.io/revision") == revision]
    old = [rs for rs in owned if rs not in new and rs.spec.replicas]
    page.add("OldReplicaSets", ", ".join(_rs_text(rs) for rs in old) or NONE)
    page.add("NewReplicaSet", ", ".join(_rs_text(rs) for rs in new) or NONE)


def _owned_by(child, owner) -> bool:
    return any(ref.uid == owner.metadata.uid for ref in child.metadata.owner_references)


def _rs_text(rs) -> str:
    return f"{rs.metadata.name} ({rs.status.replicas}/{rs.spec.replicas} replicas created)"


def replica_set(page: Page, rs, related: dict, now: float) -> None:
    _header(page, rs)
    controller = next((ref for ref in rs.metadata.owner_references if ref.controller), None)
    if controller:
        page.add("Controlled By", f"{controller.kind}/{controller.name}")
    page.add("Replicas", f"{rs.status.replicas} current / {rs.spec.replicas} desired")
    page.add("Pods Status", f"{rs.status.ready_replicas} Ready / {rs.status.available_replicas} Available")
    pod_template(page, rs.spec.template)
    _conditions(page, rs.status.conditions)


def daemon_set(page: Page, ds, related: dict, now: float) -> None:
    spec, status = ds.spec, ds.status
    page.add("Name", ds.metadata.name)
    page.add("Namespace", ds.metadata.namespace)
    page.add("Selector", label_selector_text(spec.selector))
    page.add("Node-Selector", map_selector_text(spec.template.spec.node_selector))
    page.mapping("Labels", ds.metadata.labels)
    page.mapping("Annotations", ds.metadata.annotations)
    page.add("Desired Number of Nodes Scheduled", status.desired_number_scheduled)
    page.add("Current Number of Nodes Scheduled", status.current_number_scheduled)
    page.add("Number of Nodes Scheduled with Up-to-date Pods", status.updated_number_scheduled)
    page.add("Number of Nodes Scheduled with Available Pods", status.number_available)
    page.add("Number of Nodes Misscheduled", status.number_misscheduled)
    phases = [p.status.phase for p in related.get("pods", ()) if _owned_by(p, ds)]
    page.add("Pods Status", f"{phases.count('Running')} Running / {phases.count('Pending')} Waiting / "
                            f"{phases.count('Succeeded')} Succeeded / {phases.count('Failed')} Failed")
    strategy = spec.update_strategy
    page.add("Update Strategy", strategy.type)
    if strategy.type == "RollingUpdate":
        page.add("Rolling Update", f"{port_text(strategy.rolling_update.max_unavailable)} max unavailable, "
                                   f"{port_text(strategy.rolling_update.max_surge)} max surge")
    pod_template(page, spec.template)


def job(page: Page, job, related: dict, now: float) -> None:
    spec, status = job.spec, job.status
    _header(page, job)
    page.add("Parallelism", spec.parallelism)
    page.add("Completions", spec.completions if spec.HasField("completions") else "<unset>")
    page.add("Completion Mode", spec.completion_mode or "NonIndexed")
    page.add("Suspend", "true" if spec.suspend else "false")
    page.add("Backoff Limit", spec.backoff_limit)
    if is_set(status.start_time):
        page.add("Start Time", timestamp(status.start_time))
        end = status.completion_time.seconds if is_set(status.completion_time) else now
        if is_set(status.completion_time):
            page.add("Completed At", timestamp(status.completion_time))
        page.add("Duration", human_duration(end - status.start_time.seconds))
    page.add("Pods Statuses", f"{status.active} Active / {status.succeeded} Succeeded / {status.failed} Failed")
    pod_template(page, spec.template)
    _conditions(page, status.conditions)


def _header(page: Page, obj) -> None:
    meta = obj.metadata
    page.add("Name", meta.name)
    page.add("Namespace", meta.namespace)
    page.add("CreationTimestamp", timestamp(meta.creation_timestamp))
    page.add("Selector", label_selector_text(obj.spec.selector))
    page.mapping("Labels", meta.labels)
    page.mapping("Annotations", meta.annotations)


def _conditions(page: Page, conditions) -> None:
    if conditions:
        page.add("Conditions")
        page.table(["Type", "Status", "Reason"], [[c.type, c.status, c.reason] for c in conditions])
