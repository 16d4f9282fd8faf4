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
from controlplane.api.validation import cluster, config, pods, services, workloads

_VALIDATORS = {
    # kind: (create, update)
    "Namespace": (cluster.validate_namespace, cluster.validate_namespace_update),
    "Node": (cluster.validate_node, cluster.validate_node_update),
    "PriorityClass": (cluster.validate_priority_class, cluster.validate_priority_class_update),
    "Lease": (cluster.validate_lease, cluster.validate_lease_update),
    "Event": (cluster.validate_event, cluster.validate_event_update),
    "Pod": (pods.validate_pod, pods.validate_pod_update),
    "Service": (services.validate_service, services.validate_service_update),
    "Endpoints": (services.validate_endpoints, services.validate_endpoints_update),
    "ConfigMap": (config.validate_config_map, config.validate_config_map_update),
    "Secret": (config.validate_secret, config.validate_secret_update),
    "ServiceAccount": (config.validate_service_account, config.validate_service_account_update),
    "ReplicaSet": (workloads.validate_replica_set, workloads.validate_replica_set_update),
    "Deployment": (workloads.validate_deployment, workloads.validate_deployment_update),
    "Job": (workloads.validate_job, workloads.validate_job_update),
}


def validate_create(obj) -> list[FieldError]:
    """Every problem with a new object; empty when it may be stored."""
    create, _ = _VALIDATORS[obj.DESCRIPTOR.name]
    return list(create(obj))


def validate_update(new, old) -> list[FieldError]:
    """Every problem with replacing `old` by `new` (including new's own problems)."""
    _, update = _VALIDATORS[new.DESCRIPTOR.name]
    return list(update(new, old))
