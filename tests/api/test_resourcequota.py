"""ResourceQuota and LimitRange rules (controlplane/api/resourcequota.py, limitranges.py) and their
validation, on objects built in memory."""
from collections import Counter
from fractions import Fraction

from controlplane.api import defaults, limitranges, resourcequota, validation
from controlplane.api.kinds import KINDS
from tests.support.objects import configmap, pod


def quota(hard, *, used=None, scopes=(), name="q"):
    q = KINDS["ResourceQuota"].new(metadata={"name": name, "namespace": "default"},
                                   spec={"hard": hard, "scopes": list(scopes)})
    q.status.used.update(used or {})
    return q


def sized_pod(name="p", *, cpu=None, memory=None, limit_cpu=None, init_cpu=None, **spec):
    p = pod(name, **spec)
    resources = p.spec.containers[0].resources
    for mapping, key, value in ((resources.requests, "cpu", cpu), (resources.requests, "memory", memory),
                                (resources.limits, "cpu", limit_cpu)):
        if value is not None:
            mapping[key] = value
    if init_cpu is not None:
        p.spec.init_containers.add(name="init", image="busybox").resources.requests["cpu"] = init_cpu
    defaults.apply_defaults(p)
    return p


def limit_range(*items):
    return KINDS["LimitRange"].new(metadata={"name": "lr", "namespace": "default"}, spec={"limits": list(items)})


def test_a_pod_counts_its_requests_limits_and_itself():
    found = resourcequota.usage(sized_pod(cpu="250m", memory="64Mi", limit_cpu="500m", init_cpu="400m"))
    assert found["pods"] == found["count/pods"] == 1
    assert found["requests.cpu"] == found["cpu"] == Fraction(2, 5)   # the init container's is larger
    assert found["limits.cpu"] == Fraction(1, 2) and found["requests.memory"] == 64 * 2**20
    finished = sized_pod(cpu="1")
    finished.status.phase = "Succeeded"
    assert resourcequota.usage(finished) == Counter()
    stuck = sized_pod(cpu="1")
    stuck.metadata.deletion_timestamp.seconds, stuck.metadata.deletion_grace_period_seconds = 1000, 30
    assert resourcequota.counts(stuck, now=1030) and not resourcequota.counts(stuck, now=1031)


def test_objects_count_by_standard_and_count_names():
    assert resourcequota.usage(configmap("c")) == Counter({"configmaps": 1, "count/configmaps": 1})
    deployment = KINDS["Deployment"].new(metadata={"name": "d", "namespace": "default"})
    assert resourcequota.usage(deployment) == Counter({"count/deployments.apps": 1})
    claim = KINDS["PersistentVolumeClaim"].new(metadata={"name": "c"}, spec={
        "storage_class_name": "fast", "resources": {"requests": {"storage": "1Gi"}}})
    found = resourcequota.usage(claim)
    assert found["requests.storage"] == found["fast.storageclass.storage.k8s.io/requests.storage"] == 2**30
    assert found["persistentvolumeclaims"] == found["fast.storageclass.storage.k8s.io/persistentvolumeclaims"] == 1


def test_charged_only_for_what_the_quota_limits_and_in_scope():
    p = sized_pod(cpu="100m")
    assert resourcequota.charged(quota({"pods": "2", "secrets": "1"}), p) == Counter({"pods": 1})
    assert resourcequota.charged(quota({"pods": "2"}, scopes=["BestEffort"]), p) == Counter()
    assert resourcequota.charged(quota({"pods": "2"}, scopes=["NotBestEffort", "NotTerminating"]), p) == \
        Counter({"pods": 1})
    assert resourcequota.charged(quota({"pods": "2"}, scopes=["Terminating"]),
                                 sized_pod(active_deadline_seconds=30)) == Counter({"pods": 1})
    assert resourcequota.charged(quota({"configmaps": "2"}, scopes=["NotTerminating"]), configmap("c")) == Counter()


def test_exceeded_names_the_quota_and_the_resource_in_kubernetes_words():
    full = quota({"pods": "2", "requests.cpu": "1"}, used={"pods": "2", "requests.cpu": "500m"})
    assert resourcequota.exceeded(full, Counter({"pods": 1})) == \
        "exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"
    assert resourcequota.exceeded(full, Counter({"requests.cpu": Fraction(1, 2)})) is None
    assert resourcequota.exceeded(full, Counter({"requests.cpu": Fraction(3, 5)})) == \
        "exceeded quota: q, requested: requests.cpu=600m, used: requests.cpu=500m, limited: requests.cpu=1"
    assert resourcequota.exceeded(quota({"pods": "2"}), Counter({"pods": 1})) == \
        "status unknown for quota: q, resource: pods"


def test_a_pod_must_state_what_the_quota_limits():
    q = quota({"requests.cpu": "1", "limits.memory": "1Gi", "pods": "3"})
    assert resourcequota.missing(q, sized_pod()) == ["limits.memory for: main", "requests.cpu for: main"]
    assert resourcequota.missing(q, sized_pod(cpu="1")) == ["limits.memory for: main"]


def test_used_is_added_and_recounted_in_kubectl_units():
    q = quota({"pods": "5", "requests.cpu": "2", "requests.memory": "1Gi"})
    delta = Counter({"pods": 1, "requests.cpu": Fraction(1, 2)})
    assert resourcequota.add({"pods": "1", "requests.cpu": "500m"}, delta) == {"pods": "2", "requests.cpu": "1"}
    finished = sized_pod("f", cpu="1")
    finished.status.phase = "Failed"
    assert resourcequota.compute_used(q, [sized_pod("a", cpu="250m", memory="128Mi"), sized_pod("b", cpu="1"),
                                          finished, configmap("c")]) == \
        {"pods": "2", "requests.cpu": "1250m", "requests.memory": "128Mi"}


def test_limit_range_defaults_fill_only_what_containers_leave_out():
    item = {"type": "Container", "max": {"cpu": "2"}, "default_request": {"memory": "64Mi"}, "min": {"cpu": "100m"}}
    limits, requests = limitranges.effective_defaults(limit_range(item).spec.limits[0])
    assert limits == {"cpu": "2"} and requests == {"cpu": "2", "memory": "64Mi"}   # request follows the limit
    p = sized_pod(cpu="500m")
    said = limitranges.apply_defaults(p, [limit_range(item)])
    resources = p.spec.containers[0].resources
    assert dict(resources.requests) == {"cpu": "500m", "memory": "64Mi"} and dict(resources.limits) == {"cpu": "2"}
    assert said == ["memory request for container main", "cpu limit for container main"]


def test_limit_range_bounds_in_kubernetes_words():
    ranges = [limit_range({"type": "Container", "min": {"cpu": "100m"}, "max": {"memory": "1Gi"},
                           "max_limit_request_ratio": {"cpu": "2"}},
                          {"type": "Pod", "max": {"cpu": "1"}})]
    p = sized_pod(cpu="50m", limit_cpu="4")
    assert limitranges.pod_violations(p, ranges) == [
        "minimum cpu usage per Container is 100m, but request is 50m",
        "maximum memory usage per Container is 1Gi.  No limit is specified",
        "cpu max limit to request ratio per Container is 2, but provided ratio is 80.000000",
        "maximum cpu usage per Pod is 1, but limit is 4"]
    claim = KINDS["PersistentVolumeClaim"].new(metadata={"name": "c"},
                                               spec={"resources": {"requests": {"storage": "20Gi"}}})
    assert limitranges.claim_violations(claim, [limit_range({"type": "PersistentVolumeClaim",
                                                            "max": {"storage": "10Gi"}})]) == \
        ["maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi"]


def errors_of(obj):
    return [str(e) for e in validation.validate_create(obj)]


def test_validation_names_the_field():
    assert errors_of(quota({"pods": "2", "count/deployments.apps": "1", "requests.storage": "10Gi"})) == []
    assert errors_of(quota({"widgets": "2"})) == [
        'spec.hard[widgets]: "widgets": not a resource a quota can limit here']
    assert errors_of(quota({"pods": "1.5"})) == ['spec.hard[pods]: "1.5": must be a whole number']
    assert errors_of(quota({"count/gadgets.example.com": "1"})) == [
        'spec.hard[count/gadgets.example.com]: "count/gadgets.example.com": '
        'no namespaced kind by that name on this server']
    assert errors_of(quota({"pods": "1"}, scopes=["CrossNamespacePodAffinity"]))[0].startswith(
        'spec.scopes[0]: unsupported scope "CrossNamespacePodAffinity"')
    assert errors_of(quota({"requests.cpu": "1"}, scopes=["BestEffort"])) == [
        "spec.scopes[0]: unsupported scope applied to resource: requests.cpu"]
    selector = quota({"pods": "1"})
    selector.spec.scope_selector.match_expressions.add(scope_name="PriorityClass", operator="Exists")
    assert errors_of(selector) == ["spec.scopeSelector: not supported: use spec.scopes"]
    assert errors_of(limit_range({"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}})) == [
        "spec.limits[0].min[cpu]: min value 2 is greater than max value 1"]
    assert errors_of(limit_range({"type": "Pod", "default": {"cpu": "1"}})) == [
        "spec.limits[0].default: may not be set for type Pod"]
    assert errors_of(limit_range({"type": "Node"}))[0].startswith("spec.limits[0].type:")
