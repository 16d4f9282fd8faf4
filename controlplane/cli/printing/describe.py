"""`cox describe`: one object as a page a person reads, ending with its Events.

Kinds with a describer of their own (pods, nodes, workloads, services, ...)
show the fields that explain their state, as kubectl does; any other kind is
shown field by field from its Kubernetes JSON. `related` carries objects the
page mentions that the caller fetched (a node's pods, a service's endpoints,
a deployment's replica sets, a daemon set's pods); describers never call the API themselves.
"""
import re
import time

from google.protobuf.message import Message

from controlplane.api import convert
from controlplane.api.kinds import Kind
from controlplane.cli.printing import describe_apps, describe_core, describe_pods, describe_quota
from controlplane.cli.printing.age import is_set, since
from controlplane.cli.printing.columns import event_order
from controlplane.cli.printing.page import NONE, Page

_DESCRIBERS = {
    "Pod": describe_pods.pod,
    "Deployment": describe_apps.deployment,
    "ReplicaSet": describe_apps.replica_set,
    "DaemonSet": describe_apps.daemon_set,
    "Job": describe_apps.job,
    "Node": describe_core.node,
    "Service": describe_core.service,
    "Endpoints": describe_core.endpoints,
    "ConfigMap": describe_core.config_map,
    "Secret": describe_core.secret,
    "Namespace": describe_core.namespace,
    "ResourceQuota": describe_quota.resource_quota,
    "LimitRange": describe_quota.limit_range,
}


def describe(kind: Kind, obj: Message, *, events: list[Message], related: dict | None = None,
             now: float | None = None) -> str:
    now = time.time() if now is None else now
    page = Page()
    describer = _DESCRIBERS.get(kind.name)
    if describer:
        describer(page, obj, related or {}, now)
    else:
        generic(page, kind, obj)
    events_section(page, events, now)
    return page.render()


def events_section(page: Page, events: list[Message], now: float) -> None:
    """kubectl's Events table, oldest first; a repeated event shows "5m (x3 over 10m)"."""
    if not events:
        page.add("Events", NONE)
        return
    rows = []
    for event in sorted(events, key=event_order):
        first = event.first_timestamp if is_set(event.first_timestamp) else event.event_time
        age = since(first, now)
        if event.count > 1:
            age = f"{since(event.last_timestamp, now)} (x{event.count} over {age})"
        source = event.source.component or event.reporting_component
        rows.append([event.type, event.reason, age, source, event.message.strip()])
    page.add("Events")
    page.table(["Type", "Reason", "Age", "From", "Message"], rows)


def generic(page: Page, kind: Kind, obj: Message) -> None:
    """Any kind: its metadata, then every other field with kubectl's Title Case names."""
    data = convert.to_dict(obj)
    data.pop("apiVersion", None)
    data.pop("kind", None)
    data.pop("metadata", None)
    page.metadata(obj, namespaced=kind.namespaced)
    _fields(page, data, 0)


def _fields(page: Page, data, level: int) -> None:
    for key, value in data.items():
        label = title(key)
        if isinstance(value, dict):
            page.add(label, level=level)
            _fields(page, value, level + 1)
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            page.add(label, level=level)
            for item in value:
                if isinstance(item, dict):
                    _fields(page, item, level + 1)
                else:
                    page.text(str(item), level=level + 1)
        elif isinstance(value, list):
            page.values(label, [str(item) for item in value], level=level)
        else:
            page.add(label, value, level=level)


def title(name: str) -> str:
    """holderIdentity -> Holder Identity; podCIDR -> Pod CIDR."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name)
    return " ".join(word[:1].upper() + word[1:] for word in words)

