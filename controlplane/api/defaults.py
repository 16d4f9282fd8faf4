"""Kubernetes' defaults, filled into an object before it is validated and stored.

A manifest says only what its author cares about; everything else gets the
value Kubernetes would give it, so objects read back the way kubectl users
expect and every component sees complete specs (the scheduler a
schedulerName, the kubelet a restartPolicy and probe periods). A default
never overwrites what the user set: fields where zero or false is a real
choice have presence in the proto (`optional`), and only absent ones are
filled. Defaults run on every write, so each is idempotent.

Beyond Kubernetes' defaulting functions this also does what its admission and
create strategies add to every object: the not-ready/unreachable tolerations
(DefaultTolerationSeconds), a pod's Pending phase and QoS class, a Job's
generated selector (when the object already has its uid).
"""
from controlplane.api import qos, quantity

# The taints the node lifecycle controller puts on failing nodes, tolerated for
# five minutes by default so a short outage does not evict every pod.
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
DEFAULT_TOLERATION_SECONDS = 300

JOB_CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

_FILE_MODE = 0o644


def apply_defaults(obj) -> None:
    """Fill in Kubernetes' defaults for `obj`, in place, by its kind."""
    defaulter = _BY_KIND.get(obj.DESCRIPTOR.name)
    if defaulter:
        defaulter(obj)


# ---------------------------------------------------------------- pods

def _pod(pod) -> None:
    spec = pod.spec
    _pod_spec(spec)
    if not spec.HasField("enable_service_links"):
        spec.enable_service_links = True
    for container in (*spec.init_containers, *spec.containers):
        requests, limits = container.resources.requests, container.resources.limits
        for name, amount in limits.items():
            requests.setdefault(name, amount)
    _tolerate_node_failures(spec)
    if not pod.status.phase:
        pod.status.phase = "Pending"
    if not pod.status.qos_class:
        try:
            pod.status.qos_class = qos.qos_class(spec)
        except quantity.QuantityError:
            pass  # validation names the bad quantity


def _pod_spec(spec) -> None:
    """Defaults for a PodSpec, in a pod or in a workload's pod template."""
    spec.restart_policy = spec.restart_policy or "Always"
    spec.dns_policy = spec.dns_policy or "ClusterFirst"
    spec.scheduler_name = spec.scheduler_name or "default-scheduler"
    if not spec.HasField("termination_grace_period_seconds"):
        spec.termination_grace_period_seconds = 30
    for container in (*spec.init_containers, *spec.containers):
        _container(container, host_network=spec.host_network)
    for volume in spec.volumes:
        _volume(volume)


def _container(container, *, host_network: bool) -> None:
    container.image_pull_policy = container.image_pull_policy or _pull_policy(container.image)
    container.termination_message_path = container.termination_message_path or "/dev/termination-log"
    container.termination_message_policy = container.termination_message_policy or "File"
    for port in container.ports:
        port.protocol = port.protocol or "TCP"
        if host_network and not port.host_port:
            port.host_port = port.container_port
    for probe_field in ("liveness_probe", "readiness_probe", "startup_probe"):
        if container.HasField(probe_field):
            _probe(getattr(container, probe_field))
    for hook in ("post_start", "pre_stop"):
        if container.lifecycle.HasField(hook) and getattr(container.lifecycle, hook).HasField("http_get"):
            _http_get(getattr(container.lifecycle, hook).http_get)
    for env in container.env:
        if env.value_from.HasField("field_ref"):
            _field_ref(env.value_from.field_ref)


def _pull_policy(image: str) -> str:
    """Always for :latest or untagged images (they may change), else IfNotPresent."""
    if "@" in image:
        return "IfNotPresent"
    name, _, tag = image.rpartition(":")
    untagged = not name or "/" in tag
    return "Always" if untagged or tag == "latest" else "IfNotPresent"


def _probe(probe) -> None:
    probe.timeout_seconds = probe.timeout_seconds or 1
    probe.period_seconds = probe.period_seconds or 10
    probe.success_threshold = probe.success_threshold or 1
    probe.failure_threshold = probe.failure_threshold or 3
    if probe.HasField("http_get"):
        _http_get(probe.http_get)


def _http_get(action) -> None:
    action.path = action.path or "/"
    action.scheme = action.scheme or "HTTP"


def _field_ref(selector) -> None:
    selector.api_version = selector.api_version or "v1"


def _volume(volume) -> None:
    sources = {field.name for field, _ in volume.ListFields()} - {"name"}
    if not sources:
        volume.empty_dir.SetInParent()  # a volume with no source is an emptyDir, as in Kubernetes
    for name in sources & {"secret", "config_map", "projected", "downward_api"}:
        source = getattr(volume, name)
        if not source.HasField("default_mode"):
            source.default_mode = _FILE_MODE
    for projection in volume.projected.sources:
        _projection(projection)
    _downward_items(volume.downward_api.items)


def _projection(projection) -> None:
    if projection.HasField("service_account_token"):
        token = projection.service_account_token
        if not token.HasField("expiration_seconds"):
            token.expiration_seconds = 3600
    _downward_items(projection.downward_api.items)


def _downward_items(items) -> None:
    for item in items:
        if item.HasField("field_ref"):
            _field_ref(item.field_ref)


def _tolerate_node_failures(spec) -> None:
    for key in (NOT_READY_TAINT, UNREACHABLE_TAINT):
        if not any(_tolerates_no_execute(toleration, key) for toleration in spec.tolerations):
            spec.tolerations.add(key=key, operator="Exists", effect="NoExecute",
                                 toleration_seconds=DEFAULT_TOLERATION_SECONDS)


def _tolerates_no_execute(toleration, key: str) -> bool:
    """Whether `toleration` already tolerates the value-less NoExecute taint `key`."""
    if toleration.effect not in ("", "NoExecute"):
        return False
    if toleration.operator == "Exists":
        return toleration.key in ("", key)
    return toleration.key == key and not toleration.value


# ---------------------------------------------------------------- services

def _service(service) -> None:
    spec = service.spec
    spec.type = spec.type or "ClusterIP"
    spec.session_affinity = spec.session_affinity or "None"
    if spec.session_affinity == "ClientIP":
        client_ip = spec.session_affinity_config.client_ip
        if not client_ip.HasField("timeout_seconds"):
            client_ip.timeout_seconds = 10800
    if spec.type != "ExternalName":
        spec.internal_traffic_policy = spec.internal_traffic_policy or "Cluster"
    if spec.type in ("NodePort", "LoadBalancer"):
        spec.external_traffic_policy = spec.external_traffic_policy or "Cluster"
    if spec.type == "LoadBalancer" and not spec.HasField("allocate_load_balancer_node_ports"):
        spec.allocate_load_balancer_node_ports = True
    for port in spec.ports:
        port.protocol = port.protocol or "TCP"
        target = port.target_port
        if not (target.number_value or target.string_value):
            target.number_value = port.port


def _endpoints(endpoints) -> None:
    for subset in endpoints.subsets:
        for port in subset.ports:
            port.protocol = port.protocol or "TCP"


# ---------------------------------------------------------------- workloads

def _deployment(deployment) -> None:
    spec = deployment.spec
    if not spec.HasField("replicas"):
        spec.replicas = 1
    strategy = spec.strategy
    strategy.type = strategy.type or "RollingUpdate"
    if strategy.type == "RollingUpdate":
        for name in ("max_unavailable", "max_surge"):
            value = getattr(strategy.rolling_update, name)
            if value.WhichOneof("kind") is None:
                value.string_value = "25%"
    if not spec.HasField("revision_history_limit"):
        spec.revision_history_limit = 10
    if not spec.HasField("progress_deadline_seconds"):
        spec.progress_deadline_seconds = 600
    _pod_spec(spec.template.spec)


def _replica_set(replica_set) -> None:
    if not replica_set.spec.HasField("replicas"):
        replica_set.spec.replicas = 1
    _pod_spec(replica_set.spec.template.spec)


def _daemon_set(daemon_set) -> None:
    strategy = daemon_set.spec.update_strategy
    strategy.type = strategy.type or "RollingUpdate"
    if strategy.type == "RollingUpdate":
        rolling = strategy.rolling_update
        if rolling.max_unavailable.WhichOneof("kind") is None:
            rolling.max_unavailable.number_value = 1
        if rolling.max_surge.WhichOneof("kind") is None:
            rolling.max_surge.number_value = 0
    _pod_spec(daemon_set.spec.template.spec)


def _stateful_set(stateful_set) -> None:
    spec = stateful_set.spec
    if not spec.HasField("replicas"):
        spec.replicas = 1
    spec.pod_management_policy = spec.pod_management_policy or "OrderedReady"
    strategy = spec.update_strategy
    strategy.type = strategy.type or "RollingUpdate"
    if strategy.type == "RollingUpdate" and not strategy.rolling_update.HasField("partition"):
        strategy.rolling_update.partition = 0
    if not spec.HasField("revision_history_limit"):
        spec.revision_history_limit = 10
    retention = spec.persistent_volume_claim_retention_policy
    retention.when_deleted = retention.when_deleted or "Retain"
    retention.when_scaled = retention.when_scaled or "Retain"
    for claim in spec.volume_claim_templates:
        _persistent_volume_claim(claim)
    _pod_spec(spec.template.spec)


def _persistent_volume(volume) -> None:
    volume.spec.persistent_volume_reclaim_policy = volume.spec.persistent_volume_reclaim_policy or "Retain"
    volume.spec.volume_mode = volume.spec.volume_mode or "Filesystem"
    volume.status.phase = volume.status.phase or "Pending"


def _persistent_volume_claim(claim) -> None:
    """A claim with no storageClassName keeps it unset: the volume controller gives it the default class."""
    claim.spec.volume_mode = claim.spec.volume_mode or "Filesystem"
    claim.status.phase = claim.status.phase or "Pending"


def _storage_class(storage_class) -> None:
    if not storage_class.HasField("reclaim_policy"):
        storage_class.reclaim_policy = "Delete"
    if not storage_class.HasField("volume_binding_mode"):
        storage_class.volume_binding_mode = "Immediate"


def _job(job) -> None:
    spec = job.spec
    if not spec.HasField("completions") and not spec.HasField("parallelism"):
        spec.completions = 1
    if not spec.HasField("parallelism"):
        spec.parallelism = 1
    if not spec.HasField("backoff_limit"):
        spec.backoff_limit = 6
    spec.completion_mode = spec.completion_mode or "NonIndexed"
    if not spec.HasField("suspend"):
        spec.suspend = False
    if not spec.manual_selector and job.metadata.uid:
        _select_own_pods(job)
    _pod_spec(spec.template.spec)


def _cron_job(cron_job) -> None:
    spec = cron_job.spec
    spec.concurrency_policy = spec.concurrency_policy or "Allow"
    if not spec.HasField("suspend"):
        spec.suspend = False
    if not spec.HasField("successful_jobs_history_limit"):
        spec.successful_jobs_history_limit = 3
    if not spec.HasField("failed_jobs_history_limit"):
        spec.failed_jobs_history_limit = 1
    _pod_spec(spec.job_template.spec.template.spec)


def _select_own_pods(job) -> None:
    """Label the template with the job's uid and name, and select on the uid."""
    uid, labels = job.metadata.uid, job.spec.template.metadata.labels
    for key, value in ((JOB_CONTROLLER_UID_LABEL, uid), (JOB_NAME_LABEL, job.metadata.name),
                       ("controller-uid", uid), ("job-name", job.metadata.name)):
        labels.setdefault(key, value)
    job.spec.selector.match_labels.setdefault(JOB_CONTROLLER_UID_LABEL, uid)


# ---------------------------------------------------------------- the rest

def _namespace(namespace) -> None:
    namespace.metadata.labels[NAMESPACE_NAME_LABEL] = namespace.metadata.name
    namespace.status.phase = namespace.status.phase or "Active"


def _node(node) -> None:
    status = node.status
    if not status.allocatable:
        status.allocatable.update(status.capacity)


def _secret(secret) -> None:
    secret.type = secret.type or "Opaque"
    for key, value in secret.string_data.items():
        secret.data[key] = value.encode()
    secret.ClearField("string_data")


def _priority_class(priority_class) -> None:
    priority_class.preemption_policy = priority_class.preemption_policy or "PreemptLowerPriority"


def _horizontal_pod_autoscaler(hpa) -> None:
    """minReplicas 1 and, without metrics, cpu at 80% of the pods' requests (autoscaling/v2's defaults)."""
    if not hpa.spec.HasField("min_replicas"):
        hpa.spec.min_replicas = 1
    if not hpa.spec.metrics:
        hpa.spec.metrics.add(type="Resource", resource={
            "name": "cpu", "target": {"type": "Utilization", "average_utilization": 80}})


_BY_KIND = {
    "Pod": _pod,
    "Service": _service,
    "Endpoints": _endpoints,
    "Deployment": _deployment,
    "ReplicaSet": _replica_set,
    "DaemonSet": _daemon_set,
    "StatefulSet": _stateful_set,
    "PersistentVolume": _persistent_volume,
    "PersistentVolumeClaim": _persistent_volume_claim,
    "StorageClass": _storage_class,
    "Job": _job,
    "CronJob": _cron_job,
    "Namespace": _namespace,
    "Node": _node,
    "Secret": _secret,
    "PriorityClass": _priority_class,
    "HorizontalPodAutoscaler": _horizontal_pod_autoscaler,
}
