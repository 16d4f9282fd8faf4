"""HorizontalPodAutoscaler manifests: autoscaling/v1 (what kubectl autoscale writes) read as v2,
defaults, and the fields refused by name."""
import pytest

from controlplane.api import convert
from controlplane.api.defaults import apply_defaults
from controlplane.api.errors import InvalidError
from controlplane.api.validation import validate_create


def hpa(api_version="autoscaling/v2", **spec):
    return {"apiVersion": api_version, "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "maxReplicas": 5, **spec}}


def problems(manifest) -> list[str]:
    obj = convert.from_manifest(manifest)
    apply_defaults(obj)
    return [f"{e.path}: {e.reason}" for e in validate_create(obj)]


def test_v1_target_cpu_becomes_a_v2_utilization_metric():
    obj = convert.from_manifest(hpa("autoscaling/v1", targetCPUUtilizationPercentage=50, minReplicas=2))
    assert obj.api_version == "autoscaling/v2" and obj.spec.min_replicas == 2
    (metric,) = obj.spec.metrics
    assert (metric.type, metric.resource.name, metric.resource.target.type,
            metric.resource.target.average_utilization) == ("Resource", "cpu", "Utilization", 50)


def test_v1_fields_v2_does_not_have_are_still_refused():
    with pytest.raises(InvalidError, match="spec.behavior: unknown field|spec.bogus: unknown field"):
        convert.from_manifest(hpa("autoscaling/v1", bogus=1))


def test_defaults_are_one_replica_and_cpu_at_80_percent():
    obj = convert.from_manifest(hpa())
    apply_defaults(obj)
    assert obj.spec.min_replicas == 1
    assert obj.spec.metrics[0].resource.target.average_utilization == 80
    assert problems(hpa()) == []


@pytest.mark.parametrize("spec, expected", [
    ({"scaleTargetRef": {"kind": "DaemonSet", "name": "web"}}, "spec.scaleTargetRef.kind: unsupported value"),
    ({"minReplicas": 6}, "spec.maxReplicas: must be greater than or equal to minReplicas"),
    ({"metrics": [{"type": "Pods"}]}, 'spec.metrics[0].type: "Pods": only "Resource" metrics'),
    ({"metrics": [{"type": "Resource", "resource": {"name": "gpu", "target": {"type": "Utilization",
                                                                            "averageUtilization": 5}}}]},
     "spec.metrics[0].resource.name: unsupported value"),
    ({"metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}}]},
     "spec.metrics[0].resource.target.averageUtilization: required"),
    ({"behavior": {"scaleDown": {"stabilizationWindowSeconds": 4000}}},
     "spec.behavior.scaleDown.stabilizationWindowSeconds: must be between 0 and 3600"),
    ({"behavior": {"scaleUp": {"policies": [{"type": "Pods", "value": 0, "periodSeconds": 15}]}}},
     "spec.behavior.scaleUp.policies[0].value: must be greater than or equal to 1"),
])
def test_what_is_refused_is_named(spec, expected):
    found = problems(hpa(**spec))
    assert any(p.startswith(expected) for p in found), found
