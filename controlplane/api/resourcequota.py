"""ResourceQuota arithmetic: what an object counts toward, and whether a namespace has room for it.

Pure functions shared by the admission plugin (which charges a new object to
every quota it falls under before the object is written) and the resource
quota controller (which recomputes status.used from what exists, so deletes
free room). Resource names are Kubernetes': `pods`, `requests.cpu` (and its
short form `cpu`), `limits.memory`, `services.nodeports`, `requests.storage`,
`<class>.storageclass.storage.k8s.io/requests.storage`, and `count/<plural>.<group>`
for any namespaced kind. Amounts are exact fractions; status holds them
formatted the way kubectl shows them.
"""
import operator
import time
from collections import Counter
from fractions import Fraction

from controlplane.api import kinds, podresources, qos, quantity

# Resources a pod counts toward: (quota resource name, the container resource, requests or limits).
_COMPUTE = {"requests.cpu": ("cpu", "requests"), "cpu": ("cpu", "requests"),
            "requests.memory": ("memory", "requests"), "memory": ("memory", "requests"),
            "requests.ephemeral-storage": ("ephemeral-storage", "requests"),
            "ephemeral-storage": ("ephemeral-storage", "requests"),
            "limits.cpu": ("cpu", "limits"), "limits.memory": ("memory", "limits"),
            "limits.ephemeral-storage": ("ephemeral-storage", "limits")}
# Object counts by their standard names (besides count/<plural>.<group>).
_COUNTS = {"pods": "Pod", "services": "Service", "configmaps": "ConfigMap", "secrets": "Secret",
           "persistentvolumeclaims": "PersistentVolumeClaim", "resourcequotas": "ResourceQuota"}
_SERVICE_RESOURCES = ("services.nodeports", "services.loadbalancers")
_STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/"
_CLAIM_RESOURCES = ("requests.storage", "persistentvolumeclaims")

SCOPES = ("Terminating", "NotTerminating", "BestEffort", "NotBestEffort")
# What a scoped quota may limit: a BestEffort pod has no requests, so only its count.
_SCOPE_RESOURCES = {"BestEffort": {"pods", "count/pods"}}
_POD_RESOURCES = {"pods", "count/pods", *_COMPUTE}
_FINISHED = ("Succeeded", "Failed")


def resource_error(name: str) -> str | None:
    """Why `name` is not a resource a quota can limit here, or None."""
    if name in _COMPUTE or name in _COUNTS or name in _SERVICE_RESOURCES or name in _CLAIM_RESOURCES:
        return None
    if _STORAGE_CLASS_SUFFIX in name:
        storage_class, _, resource = name.partition(_STORAGE_CLASS_SUFFIX)
        return None if storage_class and resource in _CLAIM_RESOURCES else f'"{name}": not a storage class resource'
    if name.startswith("count/"):
        kind = _counted_kind(name)
        return None if kind is not None else f'"{name}": no namespaced kind by that name on this server'
    return f'"{name}": not a resource a quota can limit here'


def is_count(name: str) -> bool:
    """Whether `name` counts objects (a whole number) rather than measuring an amount."""
    return (name in _COUNTS or name.startswith("count/") or name in _SERVICE_RESOURCES
            or name.endswith("/persistentvolumeclaims"))


def scope_error(scope: str, hard_names) -> str | None:
    """Why a quota with `scope` may not limit `hard_names`, or None."""
    allowed = _SCOPE_RESOURCES.get(scope, _POD_RESOURCES)
    wrong = sorted(set(hard_names) - allowed)
    return f"unsupported scope applied to resource: {', '.join(wrong)}" if wrong else None


def _counted_kind(name: str) -> str | None:
    plural, _, group = name[len("count/"):].partition(".")
    for kind in kinds.KINDS.values():
        if kind.plural == plural and kind.group == group and kind.namespaced:
            return kind.name
    return None


def counts(pod, now: float | None = None) -> bool:
    """Whether a pod takes room, as Kubernetes counts pods: not finished, and not stuck terminating (on a
    lost node, say) longer than its grace period past its deletion time."""
    if pod.status.phase in _FINISHED:
        return False
    meta = pod.metadata
    if meta.HasField("deletion_timestamp"):
        now = time.time() if now is None else now
        return now <= meta.deletion_timestamp.seconds + meta.deletion_grace_period_seconds
    return True


def matches_scopes(quota, obj) -> bool:
    """Whether `obj` falls under the quota's scopes (a scoped quota covers pods only)."""
    scopes = quota.spec.scopes
    if not scopes:
        return True
    if obj.DESCRIPTOR.name != "Pod":
        return False
    terminating = obj.spec.HasField("active_deadline_seconds")
    best_effort = qos.qos_class(obj.spec) == "BestEffort"
    wanted = {"Terminating": terminating, "NotTerminating": not terminating,
              "BestEffort": best_effort, "NotBestEffort": not best_effort}
    return all(wanted[s] for s in scopes)


def usage(obj) -> Counter:
    """Every resource name `obj` counts toward, with its amount."""
    kind = kinds.by_name(obj.DESCRIPTOR.name)
    found = Counter({f"count/{kind.plural}" + (f".{kind.group}" if kind.group else ""): Fraction(1)})
    if kind.name == "Pod" and not counts(obj):
        return Counter()
    standard = next((n for n, k in _COUNTS.items() if k == kind.name), None)
    if standard:
        found[standard] = Fraction(1)
    if kind.name == "Pod":
        for name, (resource, which) in _COMPUTE.items():
            amount = _pod_amount(obj.spec, resource, which)
            if amount:
                found[name] = amount
    elif kind.name == "Service":
        found["services.nodeports"] = Fraction(sum(1 for p in obj.spec.ports if p.node_port)
                                               if obj.spec.type in ("NodePort", "LoadBalancer") else 0)
        found["services.loadbalancers"] = Fraction(int(obj.spec.type == "LoadBalancer"))
    elif kind.name == "PersistentVolumeClaim":
        storage = obj.spec.resources.requests.get("storage")
        amount = quantity.parse(storage) if storage else Fraction(0)
        found["requests.storage"] = amount
        storage_class = obj.spec.storage_class_name
        if storage_class:
            found[f"{storage_class}{_STORAGE_CLASS_SUFFIX}requests.storage"] = amount
            found[f"{storage_class}{_STORAGE_CLASS_SUFFIX}persistentvolumeclaims"] = Fraction(1)
    return found


def _pod_amount(spec, resource: str, which: str) -> Fraction:
    """A pod's effective request or limit of `resource` (podresources.pod_total: sidecars included)."""
    def amount(container) -> Fraction:
        values = getattr(container.resources, which)
        return quantity.parse(values[resource]) if resource in values else Fraction(0)
    return podresources.pod_total(spec, amount, add=operator.add, larger=max, zero=Fraction(0))


def missing(quota, pod) -> list[str]:
    """`<resource> for: <containers>` for each compute resource the quota limits that some container of
    the pod does not state: Kubernetes refuses such a pod, as its share cannot be counted."""
    out = []
    for name in sorted(quota.spec.hard):
        if name not in _COMPUTE:
            continue
        resource, which = _COMPUTE[name]
        lacking = [c.name for c in (*pod.spec.init_containers, *pod.spec.containers)
                   if resource not in getattr(c.resources, which)]
        if lacking:
            out.append(f"{which}.{resource} for: {','.join(lacking)}")
    return list(dict.fromkeys(out))


def charged(quota, obj) -> Counter:
    """What creating `obj` adds to the resources this quota limits (empty if none, or out of scope)."""
    if not matches_scopes(quota, obj):
        return Counter()
    found = usage(obj)
    return Counter({name: found[name] for name in quota.spec.hard if name in found})


def exceeded(quota, delta: Counter) -> str | None:
    """Kubernetes' refusal when `delta` on top of status.used goes past spec.hard, else None."""
    name = quota.metadata.name
    unknown = sorted(r for r in delta if r not in quota.status.used)
    if unknown:
        return f"status unknown for quota: {name}, resource: {', '.join(unknown)}"
    over = sorted(r for r, amount in delta.items()
                  if quantity.parse(quota.status.used[r]) + amount > quantity.parse(quota.spec.hard[r]))
    if not over:
        return None
    requested = ",".join(f"{r}={format_amount(r, delta[r])}" for r in over)
    used = ",".join(f"{r}={quota.status.used[r]}" for r in over)
    limited = ",".join(f"{r}={quota.spec.hard[r]}" for r in over)
    return f"exceeded quota: {name}, requested: {requested}, used: {used}, limited: {limited}"


def add(used, delta: Counter) -> dict[str, str]:
    """status.used with `delta` added."""
    out = dict(used)
    for name, amount in delta.items():
        out[name] = format_amount(name, quantity.parse(out.get(name, "0")) + amount)
    return out


def compute_used(quota, objects) -> dict[str, str]:
    """status.used for `quota` over `objects` (everything in its namespace that may count)."""
    totals = Counter({name: Fraction(0) for name in quota.spec.hard})
    for obj in objects:
        totals.update(charged(quota, obj))
    return {name: format_amount(name, totals[name]) for name in quota.spec.hard}


def format_amount(name: str, amount: Fraction) -> str:
    """An amount as status shows it: CPU in cores or millicores, bytes with a binary suffix, counts plainly."""
    if name.endswith("cpu"):
        return quantity.format_millicores(int(amount * 1000))
    if is_count(name):
        return str(int(amount))
    return quantity.format_bytes(int(amount))
