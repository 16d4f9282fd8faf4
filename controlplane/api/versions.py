"""Manifests written for an older version of a kind, converted on input to the version served.

The API serves one version of each kind. A few tools still write an older
one: `kubectl autoscale -o yaml` (kubectl up to 1.32) writes an
autoscaling/v1 HorizontalPodAutoscaler, whose one metric,
targetCPUUtilizationPercentage, is a cpu Utilization metric in
autoscaling/v2. Such a manifest is rewritten here before it is parsed, so it
applies unchanged; anything else in it is parsed (and refused) as usual.
`downgrade` goes the other way, for answers at an older version's REST path
(apiserver/rest/olderversions.py): what the older version cannot say is
left out.
"""
from typing import Callable

HPA_V1 = ("autoscaling/v1", "HorizontalPodAutoscaler")


def _cpu_metric(section: str, percent) -> dict:
    """A v2 cpu Resource metric: a spec's target, or a status's current value."""
    value = {"averageUtilization": percent}
    return {"type": "Resource", "resource": {"name": "cpu", section: {"type": "Utilization", **value}
                                             if section == "target" else value}}


def _moved(part, v1_field: str, v2_field: str, section: str):
    """`part` (spec or status) with the v1 cpu percentage replaced by the v2 metric list."""
    if not isinstance(part, dict) or v1_field not in part:
        return part
    part = dict(part)
    percent = part.pop(v1_field)
    if percent is not None:
        part[v2_field] = [_cpu_metric(section, percent)]
    return part


def _hpa_from_v1(data: dict) -> dict:
    out = dict(data, apiVersion="autoscaling/v2")
    for key, v1_field, v2_field, section in (("spec", "targetCPUUtilizationPercentage", "metrics", "target"),
                                            ("status", "currentCPUUtilizationPercentage", "currentMetrics",
                                             "current")):
        if key in data:
            out[key] = _moved(data[key], v1_field, v2_field, section)
    return out


_UPGRADES: dict[tuple[str, str], Callable[[dict], dict]] = {HPA_V1: _hpa_from_v1}


def upgrade(data: dict) -> dict:
    """`data` in the served version of its kind (unchanged if it already is, or is not a manifest)."""
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("apiVersion", "kind")):
        return data   # from_manifest names what is wrong
    convert = _UPGRADES.get((data["apiVersion"], data["kind"]))
    return convert(data) if convert else data


def _cpu_percent(metrics, section: str):
    """The cpu Utilization percentage among v2 metrics (a spec's targets or a status's current values)."""
    for metric in metrics if isinstance(metrics, list) else []:
        if not isinstance(metric, dict) or metric.get("type") != "Resource":
            continue
        resource = metric.get("resource") or {}
        value = resource.get(section) or {}
        if resource.get("name") == "cpu" and "averageUtilization" in value \
                and value.get("type", "Utilization") == "Utilization":
            return value["averageUtilization"]
    return None


def _hpa_to_v1(data: dict) -> dict:
    out = dict(data, apiVersion=HPA_V1[0])
    for key, v1_field, v2_field, section, dropped in (
            ("spec", "targetCPUUtilizationPercentage", "metrics", "target", ("behavior",)),
            ("status", "currentCPUUtilizationPercentage", "currentMetrics", "current", ("conditions",))):
        part = data.get(key)
        if not isinstance(part, dict):
            continue
        part = {k: v for k, v in part.items() if k != v2_field and k not in dropped}
        percent = _cpu_percent(data[key].get(v2_field), section)
        if percent is not None:
            part[v1_field] = percent
        out[key] = part
    if isinstance(out.get("status"), dict):   # always written in v1 (not omitted when zero)
        out["status"] = {"currentReplicas": 0, "desiredReplicas": 0, **out["status"]}
    return out


_DOWNGRADES: dict[tuple[str, str], Callable[[dict], dict]] = {HPA_V1: _hpa_to_v1}


def downgrade(data: dict, api_version: str) -> dict:
    """`data` (in the served version) as `api_version` says it; unchanged if that is no older version of it."""
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        return data
    convert = _DOWNGRADES.get((api_version, data["kind"]))
    return convert(data) if convert else data
