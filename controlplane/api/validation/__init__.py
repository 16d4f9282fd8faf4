"""Validation of API objects, Kubernetes' rules for what coxswain supports.

The API server calls validate_create on every new object and validate_update
on every replacement, after defaults are applied; a non-empty result rejects
the write with every problem listed (errors.InvalidError). One module per
group of kinds; `common` and `meta` hold what they share.

Expectations on the caller (as Kubernetes' registry does before validating):
metadata.namespace is set for namespaced kinds, and on update the fields the
server owns (uid, creationTimestamp, deletionTimestamp, a Service's clusterIP
when the new object leaves it empty) are carried over from the stored object.
"""
from controlplane.api.errors import FieldError
from controlplane.api.validation import (autoscaling, cluster, config, meta, pods, policy, quota, rbac, services,
                                         storage, usage, workloads)

_VALIDATORS = {
    # kind: (rules for a new object, rules an update adds beyond those and metadata's, if any)
    "Namespace": (cluster.validate_namespace, None),
    "Node": (cluster.validate_node, cluster.node_update_rules),
    "PriorityClass": (cluster.validate_priority_class, cluster.priority_class_update_rules),
    "Lease": (cluster.validate_lease, None),
    "NodeCredentialRequest": (cluster.validate_node_credential_request, cluster.node_credential_request_update_rules),
    "Event": (cluster.validate_event, cluster.event_update_rules),
    "Pod": (pods.validate_pod, pods.pod_update_rules),
    "Service": (services.validate_service, services.service_update_rules),
    "Endpoints": (services.validate_endpoints, None),
    "ConfigMap": (config.validate_config_map, config.config_map_update_rules),
    "Secret": (config.validate_secret, config.secret_update_rules),
    "ServiceAccount": (config.validate_service_account, None),
    "ReplicaSet": (workloads.validate_replica_set, workloads.selector_update_rules),
    "Deployment": (workloads.validate_deployment, workloads.selector_update_rules),
    "DaemonSet": (workloads.validate_daemon_set, workloads.selector_update_rules),
    "Job": (workloads.validate_job, workloads.job_update_rules),
    "Role": (rbac.validate_role, None),
    "ClusterRole": (rbac.validate_cluster_role, None),
    "RoleBinding": (rbac.validate_role_binding, rbac.binding_update_rules),
    "ClusterRoleBinding": (rbac.validate_cluster_role_binding, rbac.binding_update_rules),
    "CronJob": (workloads.validate_cron_job, None),
    "StatefulSet": (workloads.validate_stateful_set, workloads.stateful_set_update_rules),
    "PersistentVolume": (storage.validate_persistent_volume, storage.persistent_volume_update_rules),
    "PersistentVolumeClaim": (storage.validate_persistent_volume_claim, storage.persistent_volume_claim_update_rules),
    "StorageClass": (storage.validate_storage_class, storage.storage_class_update_rules),
    "PodDisruptionBudget": (policy.validate_pod_disruption_budget, None),
    "ControllerRevision": (workloads.validate_controller_revision, workloads.controller_revision_update_rules),
    "NodeMetrics": (usage.validate_node_metrics, None),
    "PodMetrics": (usage.validate_pod_metrics, None),
    "HorizontalPodAutoscaler": (autoscaling.validate_horizontal_pod_autoscaler, None),
    "ResourceQuota": (quota.validate_resource_quota, None),
    "LimitRange": (quota.validate_limit_range, None),
}


def validate_create(obj) -> list[FieldError]:
    """Every problem with a new object; empty when it may be stored."""
    create, _ = _VALIDATORS[obj.DESCRIPTOR.name]
    return list(create(obj))


def validate_update(new, old) -> list[FieldError]:
    """Every problem with replacing `old` by `new`: new's own, then what may not change."""
    create, update_rules = _VALIDATORS[new.DESCRIPTOR.name]
    errors = [*create(new), *meta.object_meta_update(new, old)]
    if update_rules:
        errors += update_rules(new, old)
    return errors
