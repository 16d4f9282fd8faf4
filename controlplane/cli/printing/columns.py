"""The columns of `cox get`'s table for each kind, as kubectl prints them.

A kind's table is a list of Columns (a title and a function of the object
and the time now); `-o wide` appends the kind's wide columns. Kinds without
a printer here show NAME and AGE.
"""
import time
from dataclasses import dataclass
from typing import Callable

from google.protobuf.message import Message

from controlplane.api import selectors
from controlplane.api.kinds import Kind
from controlplane.cli.printing.age import human_duration, is_set, since
from controlplane.cli.printing.pod_status import summarize

NONE = "<none>"
_ENDPOINTS_SHOWN = 3


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable[[Message, float], str]


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    wide: tuple[Column, ...] = ()


def table(kind: Kind, objects: list[Message], *, wide: bool = False, namespaces: bool = False,
          now: float | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and rows for `objects` of `kind`; `namespaces` adds kubectl's NAMESPACE column (-A)."""
    now = time.time() if now is None else now
    printer = PRINTERS.get(kind.name, _DEFAULT)
    columns = printer.columns + (printer.wide if wide else ())
    if namespaces and kind.namespaced:
        columns = (Column("NAMESPACE", lambda o, _: o.metadata.namespace),) + columns
    return [c.title for c in columns], [[c.value(o, now) for c in columns] for o in objects]


# ------------------------------------------------------------ shared cells

def _name(obj, _now) -> str:
    return obj.metadata.name


def _age(obj, now) -> str:
    return since(obj.metadata.creation_timestamp, now)


NAME = Column("NAME", _name)
AGE = Column("AGE", _age)


def _or_none(text: str) -> str:
    return text or NONE


def label_selector_text(selector) -> str:
    try:
        return _or_none(str(selectors.from_label_selector(selector)))
    except selectors.SelectorError:
        return "<invalid>"


def map_selector_text(labels) -> str:
    return _or_none(",".join(f"{k}={labels[k]}" for k in sorted(labels)))


def _template_columns(spec=lambda o: o.spec) -> tuple[Column, ...]:
    """CONTAINERS IMAGES SELECTOR: the wide columns of every workload kind, from `spec(obj)` (the
    spec holding the pod template and selector: a CronJob's is its job template's)."""
    return (Column("CONTAINERS", lambda o, _: ",".join(c.name for c in spec(o).template.spec.containers)),
            Column("IMAGES", lambda o, _: ",".join(c.image for c in spec(o).template.spec.containers)),
            Column("SELECTOR", lambda o, _: label_selector_text(spec(o).selector)))


# -------------------------------------------------------------------- kinds

_last_summary: list = [None, None, None]


def _summary(pod, now: float):
    """summarize() once per pod for its three columns: a row's cells are made one after another."""
    if _last_summary[0] is not pod or _last_summary[1] != now:
        _last_summary[:] = [pod, now, summarize(pod, now)]
    return _last_summary[2]


_POD = Printer(
    columns=(NAME,
             Column("READY", lambda o, now: _summary(o, now).ready),
             Column("STATUS", lambda o, now: _summary(o, now).status),
             Column("RESTARTS", lambda o, now: _summary(o, now).restarts),
             AGE),
    wide=(Column("IP", lambda o, _: _or_none(o.status.pod_ip)),
          Column("NODE", lambda o, _: _or_none(o.spec.node_name)),
          Column("NOMINATED NODE", lambda o, _: _or_none(o.status.nominated_node_name))))


def node_status(node) -> str:
    """Ready / NotReady / Unknown, plus SchedulingDisabled when cordoned."""
    ready = next((c for c in node.status.conditions if c.type == "Ready"), None)
    words = ["Unknown" if ready is None else "Ready" if ready.status == "True" else "NotReady"]
    if node.spec.unschedulable:
        words.append("SchedulingDisabled")
    return ",".join(words)


def node_roles(node) -> str:
    roles = set()
    for key, value in node.metadata.labels.items():
        if key.startswith("node-role.kubernetes.io/") and key.partition("/")[2]:
            roles.add(key.partition("/")[2])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return _or_none(",".join(sorted(roles)))


def _node_address(node, kind: str) -> str:
    return _or_none(next((a.address for a in node.status.addresses if a.type == kind), ""))


_NODE = Printer(
    columns=(NAME, Column("STATUS", lambda o, _: node_status(o)), Column("ROLES", lambda o, _: node_roles(o)),
             AGE, Column("VERSION", lambda o, _: o.status.node_info.kubelet_version)),
    wide=(Column("INTERNAL-IP", lambda o, _: _node_address(o, "InternalIP")),
          Column("EXTERNAL-IP", lambda o, _: _node_address(o, "ExternalIP")),
          Column("OS-IMAGE", lambda o, _: o.status.node_info.os_image or "<unknown>"),
          Column("KERNEL-VERSION", lambda o, _: o.status.node_info.kernel_version or "<unknown>"),
          Column("CONTAINER-RUNTIME", lambda o, _: o.status.node_info.container_runtime_version or "<unknown>")))

_DEPLOYMENT = Printer(
    columns=(NAME,
             Column("READY", lambda o, _: f"{o.status.ready_replicas}/{o.spec.replicas}"),
             Column("UP-TO-DATE", lambda o, _: str(o.status.updated_replicas)),
             Column("AVAILABLE", lambda o, _: str(o.status.available_replicas)),
             AGE),
    wide=_template_columns())

_REPLICA_SET = Printer(
    columns=(NAME,
             Column("DESIRED", lambda o, _: str(o.spec.replicas)),
             Column("CURRENT", lambda o, _: str(o.status.replicas)),
             Column("READY", lambda o, _: str(o.status.ready_replicas)),
             AGE),
    wide=_template_columns())

_DAEMON_SET = Printer(
    columns=(NAME,
             Column("DESIRED", lambda o, _: str(o.status.desired_number_scheduled)),
             Column("CURRENT", lambda o, _: str(o.status.current_number_scheduled)),
             Column("READY", lambda o, _: str(o.status.number_ready)),
             Column("UP-TO-DATE", lambda o, _: str(o.status.updated_number_scheduled)),
             Column("AVAILABLE", lambda o, _: str(o.status.number_available)),
             Column("NODE SELECTOR", lambda o, _: map_selector_text(o.spec.template.spec.node_selector)),
             AGE),
    wide=_template_columns())

_STATEFUL_SET = Printer(
    columns=(NAME, Column("READY", lambda o, _: f"{o.status.ready_replicas}/{o.spec.replicas}"), AGE),
    wide=_template_columns()[:2])

_ACCESS_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}


def _access_modes(modes) -> str:
    return ",".join(_ACCESS_MODES.get(m, m) for m in modes)


def _claim_of(volume) -> str:
    ref = volume.spec.claim_ref
    return f"{ref.namespace}/{ref.name}" if ref.name else ""


_PERSISTENT_VOLUME = Printer(
    columns=(NAME, Column("CAPACITY", lambda o, _: o.spec.capacity.get("storage", "")),
             Column("ACCESS MODES", lambda o, _: _access_modes(o.spec.access_modes)),
             Column("RECLAIM POLICY", lambda o, _: o.spec.persistent_volume_reclaim_policy),
             Column("STATUS", lambda o, _: o.status.phase), Column("CLAIM", lambda o, _: _claim_of(o)),
             Column("STORAGECLASS", lambda o, _: o.spec.storage_class_name),
             Column("REASON", lambda o, _: o.status.reason), AGE))

_PERSISTENT_VOLUME_CLAIM = Printer(
    columns=(NAME, Column("STATUS", lambda o, _: o.status.phase), Column("VOLUME", lambda o, _: o.spec.volume_name),
             Column("CAPACITY", lambda o, _: o.status.capacity.get("storage", "")),
             Column("ACCESS MODES", lambda o, _: _access_modes(o.status.access_modes)),
             Column("STORAGECLASS", lambda o, _: _or_none(o.spec.storage_class_name)), AGE))


def _class_name(storage_class, _now) -> str:
    default = storage_class.metadata.annotations.get("storageclass.kubernetes.io/is-default-class") == "true"
    return storage_class.metadata.name + (" (default)" if default else "")


_STORAGE_CLASS = Printer(
    columns=(Column("NAME", _class_name), Column("PROVISIONER", lambda o, _: o.provisioner),
             Column("RECLAIMPOLICY", lambda o, _: o.reclaim_policy),
             Column("VOLUMEBINDINGMODE", lambda o, _: o.volume_binding_mode),
             Column("ALLOWVOLUMEEXPANSION", lambda o, _: str(o.allow_volume_expansion).lower()), AGE))


def job_status(job) -> str:
    conditions = {c.type for c in job.status.conditions if c.status == "True"}
    for condition in ("Complete", "Failed"):
        if condition in conditions:
            return condition
    if job.metadata.HasField("deletion_timestamp"):
        return "Terminating"
    if "Suspended" in conditions:
        return "Suspended"
    return "FailureTarget" if "FailureTarget" in conditions else "Running"


def job_completions(job) -> str:
    succeeded = job.status.succeeded
    if job.spec.HasField("completions"):
        return f"{succeeded}/{job.spec.completions}"
    if job.spec.parallelism > 1:
        return f"{succeeded}/1 of {job.spec.parallelism}"
    return f"{succeeded}/1"


def job_duration(job, now: float) -> str:
    status = job.status
    if not is_set(status.start_time):
        return ""
    end = status.completion_time.seconds if is_set(status.completion_time) else now
    return human_duration(end - status.start_time.seconds)


_JOB = Printer(
    columns=(NAME, Column("STATUS", lambda o, _: job_status(o)),
             Column("COMPLETIONS", lambda o, _: job_completions(o)),
             Column("DURATION", job_duration), AGE),
    wide=_template_columns())


_CRON_JOB = Printer(
    columns=(NAME, Column("SCHEDULE", lambda o, _: o.spec.schedule),
             Column("TIMEZONE", lambda o, _: _or_none(o.spec.time_zone)),
             Column("SUSPEND", lambda o, _: "True" if o.spec.suspend else "False"),
             Column("ACTIVE", lambda o, _: str(len(o.status.active))),
             Column("LAST SCHEDULE", lambda o, now: since(o.status.last_schedule_time, now)
                    if is_set(o.status.last_schedule_time) else NONE),
             AGE),
    wide=_template_columns(lambda o: o.spec.job_template.spec))


def service_ports(service) -> str:
    ports = []
    for port in service.spec.ports:
        text = f"{port.port}:{port.node_port}" if port.node_port else str(port.port)
        ports.append(f"{text}/{port.protocol or 'TCP'}")
    return _or_none(",".join(ports))


def service_external_ips(service) -> str:
    if service.spec.type == "ExternalName":  # as kubectl shows it
        return service.spec.external_name
    addresses = list(service.spec.external_ips)
    addresses += [i.ip or i.hostname for i in service.status.load_balancer.ingress]
    if not addresses and service.spec.type == "LoadBalancer":
        return "<pending>"
    return _or_none(",".join(addresses))


_SERVICE = Printer(
    columns=(NAME, Column("TYPE", lambda o, _: o.spec.type),
             Column("CLUSTER-IP", lambda o, _: _or_none(o.spec.cluster_ip)),
             Column("EXTERNAL-IP", lambda o, _: service_external_ips(o)),
             Column("PORT(S)", lambda o, _: service_ports(o)), AGE),
    wide=(Column("SELECTOR", lambda o, _: map_selector_text(o.spec.selector)),))


def endpoint_addresses(endpoints, shown: int = _ENDPOINTS_SHOWN) -> str:
    """ip:port for every ready address and port, the first `shown` of them and how many more."""
    found = []
    for subset in endpoints.subsets:
        for address in subset.addresses:
            if subset.ports:
                found += [f"{address.ip}:{port.port}" for port in subset.ports]
            else:
                found.append(address.ip)
    if not found:
        return NONE
    text = ",".join(found[:shown])
    return text + (f" + {len(found) - shown} more..." if len(found) > shown else "")


_ENDPOINTS = Printer(columns=(NAME, Column("ENDPOINTS", lambda o, _: endpoint_addresses(o)), AGE))

_CONFIG_MAP = Printer(columns=(NAME, Column("DATA", lambda o, _: str(len(o.data) + len(o.binary_data))), AGE))

_SECRET = Printer(columns=(NAME, Column("TYPE", lambda o, _: o.type),
                           Column("DATA", lambda o, _: str(len(o.data))), AGE))

_SERVICE_ACCOUNT = Printer(columns=(NAME, Column("SECRETS", lambda o, _: str(len(o.secrets))), AGE))

_NAMESPACE = Printer(columns=(NAME, Column("STATUS", lambda o, _: o.status.phase), AGE))


def event_last_time(event):
    """When an event last happened: lastTimestamp, or eventTime for events that only have that."""
    return event.last_timestamp if is_set(event.last_timestamp) else event.event_time


def event_order(event) -> tuple[int, int]:
    """Sort key putting events oldest first, as kubectl lists them."""
    stamp = event_last_time(event)
    return stamp.seconds, stamp.nanos


def event_last_seen(event, now: float) -> str:
    return since(event_last_time(event), now)


def event_first_seen(event, now: float) -> str:
    stamp = event.first_timestamp if is_set(event.first_timestamp) else event.event_time
    return since(stamp, now)


def event_object(event) -> str:
    ref = event.involved_object
    return f"{ref.kind.lower()}/{ref.name}"


def event_source(event) -> str:
    """kubelet, node1: who reported the event, and where."""
    parts = [event.source.component, event.source.host]
    if not any(parts):
        parts = [event.reporting_component, event.reporting_instance]
    return ", ".join(p for p in parts if p)


_EVENT = Printer(
    columns=(Column("LAST SEEN", event_last_seen), Column("TYPE", lambda o, _: o.type),
             Column("REASON", lambda o, _: o.reason), Column("OBJECT", lambda o, _: event_object(o)),
             Column("MESSAGE", lambda o, _: o.message.strip())),
    wide=(Column("SUBOBJECT", lambda o, _: o.involved_object.field_path),
          Column("SOURCE", lambda o, _: event_source(o)),
          Column("FIRST SEEN", event_first_seen),
          Column("COUNT", lambda o, _: str(o.count)), NAME))


_LEASE = Printer(columns=(NAME, Column("HOLDER", lambda o, _: _or_none(o.spec.holder_identity)), AGE))


def quota_usage(quota, *, limits: bool) -> str:
    """kubectl's REQUEST or LIMIT cell of a ResourceQuota: `pods: 1/2, requests.cpu: 500m/1`."""
    return ", ".join(f"{name}: {quota.status.used.get(name, '0')}/{quota.status.hard[name]}"
                     for name in sorted(quota.status.hard) if name.startswith("limits.") == limits)


_RESOURCE_QUOTA = Printer(columns=(NAME, AGE, Column("REQUEST", lambda o, _: quota_usage(o, limits=False)),
                                   Column("LIMIT", lambda o, _: quota_usage(o, limits=True))))

def budget_bound(value) -> str:
    """A PodDisruptionBudget's minAvailable or maxUnavailable cell: 2, 50%, or N/A when unset."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    return str(int(value.number_value)) if kind == "number_value" else "N/A"


_POD_DISRUPTION_BUDGET = Printer(columns=(
    NAME, Column("MIN AVAILABLE", lambda o, _: budget_bound(o.spec.min_available)),
    Column("MAX UNAVAILABLE", lambda o, _: budget_bound(o.spec.max_unavailable)),
    Column("ALLOWED DISRUPTIONS", lambda o, _: str(o.status.disruptions_allowed)), AGE))

_PRIORITY_CLASS = Printer(columns=(
    NAME, Column("VALUE", lambda o, _: str(o.value)),
    Column("GLOBAL-DEFAULT", lambda o, _: "true" if o.global_default else "false"), AGE,
    Column("PREEMPTIONPOLICY", lambda o, _: o.preemption_policy)))

def credential_expiry(request, now: float) -> str:
    """How long a node credential has left: "6d23h", or "expired"."""
    left = request.status.expiration_timestamp.seconds - now
    return human_duration(left) if left > 0 else "expired"


def credential_condition(request) -> str:
    return ",".join(c.type for c in request.status.conditions if c.status == "True") or "Pending"


_NODE_CREDENTIAL_REQUEST = Printer(columns=(
    NAME, AGE, Column("NODE", lambda o, _: o.spec.node_name), Column("REQUESTOR", lambda o, _: o.spec.username),
    Column("EXPIRES", credential_expiry), Column("CONDITION", lambda o, _: credential_condition(o))))

def role_ref_text(binding) -> str:
    return f"{binding.role_ref.kind}/{binding.role_ref.name}"


def _subjects(kind: str):
    def names(binding, _now) -> str:
        found = [(f"{s.namespace}/{s.name}" if kind == "ServiceAccount" else s.name)
                 for s in binding.subjects if s.kind == kind]
        return ", ".join(found)
    return names


_ROLE = Printer(columns=(NAME, Column("CREATED AT", lambda o, _: time.strftime(
    "%Y-%m-%dT%H:%M:%SZ", time.gmtime(o.metadata.creation_timestamp.seconds)))))
_ROLE_BINDING = Printer(
    columns=(NAME, Column("ROLE", lambda o, _: role_ref_text(o)), AGE),
    wide=(Column("USERS", _subjects("User")), Column("GROUPS", _subjects("Group")),
          Column("SERVICEACCOUNTS", _subjects("ServiceAccount"))))

_DEFAULT = Printer(columns=(NAME, AGE))

PRINTERS: dict[str, Printer] = {
    "Pod": _POD, "Node": _NODE, "Deployment": _DEPLOYMENT, "ReplicaSet": _REPLICA_SET,
    "DaemonSet": _DAEMON_SET, "StatefulSet": _STATEFUL_SET, "PersistentVolume": _PERSISTENT_VOLUME,
    "PersistentVolumeClaim": _PERSISTENT_VOLUME_CLAIM, "StorageClass": _STORAGE_CLASS, "Job": _JOB, "CronJob": _CRON_JOB,
    "Service": _SERVICE, "Endpoints": _ENDPOINTS, "ConfigMap": _CONFIG_MAP, "Secret": _SECRET,
    "ServiceAccount": _SERVICE_ACCOUNT, "Namespace": _NAMESPACE, "Event": _EVENT, "Lease": _LEASE,
    "PriorityClass": _PRIORITY_CLASS, "NodeCredentialRequest": _NODE_CREDENTIAL_REQUEST,
    "Role": _ROLE, "ClusterRole": _ROLE, "RoleBinding": _ROLE_BINDING, "ClusterRoleBinding": _ROLE_BINDING,
    "ResourceQuota": _RESOURCE_QUOTA, "LimitRange": _ROLE,   # kubectl shows both as NAME, CREATED AT
    "PodDisruptionBudget": _POD_DISRUPTION_BUDGET,
}
