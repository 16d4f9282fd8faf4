"""Kubernetes' defaults fill what a manifest leaves out and never overwrite what it says."""
import pytest

from controlplane.api import convert, defaults, kinds
from tests.api.manifests import admitted, fixture_files, load


def _defaulted(kind: str, **fields):
    obj = kinds.by_name(kind).new(**fields)
    defaults.apply_defaults(obj)
    return obj


def _pod(spec: dict, **fields):
    return _defaulted("Pod", metadata={"name": "p", "namespace": "default"}, spec=spec, **fields)


MINIMAL_SPEC = {"containers": [{"name": "c", "image": "busybox"}]}


def test_pod_defaults():
    pod = _pod(MINIMAL_SPEC)
    out = convert.to_dict(pod)
    assert out["spec"] == {
        "containers": [{"name": "c", "image": "busybox", "imagePullPolicy": "Always",
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File"}],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
        "tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 300},
        ],
        "enableServiceLinks": True,
    }
    assert out["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


@pytest.mark.parametrize("image, policy", [
    ("busybox", "Always"), ("busybox:latest", "Always"), ("busybox:1.36", "IfNotPresent"),
    ("registry.local:5000/busybox", "Always"), ("registry.local:5000/busybox:1", "IfNotPresent"),
    ("busybox@sha256:" + "a" * 64, "IfNotPresent"),
])
def test_image_pull_policy_follows_the_tag(image, policy):
    pod = _pod({"containers": [{"name": "c", "image": image}]})
    assert pod.spec.containers[0].image_pull_policy == policy


def test_user_values_are_kept_even_when_zero_or_false():
    pod = _pod({
        "containers": [{
            "name": "c", "image": "busybox", "image_pull_policy": "Never",
            "ports": [{"container_port": 53, "protocol": "UDP"}],
            "liveness_probe": {"tcp_socket": {"port": {"number_value": 53}}, "timeout_seconds": 5, "period_seconds": 7,
                               "failure_threshold": 9},
        }],
        "restart_policy": "Never", "dns_policy": "Default", "scheduler_name": "mine",
        "termination_grace_period_seconds": 0, "enable_service_links": False,
    })
    spec = pod.spec
    assert (spec.restart_policy, spec.dns_policy, spec.scheduler_name) == ("Never", "Default", "mine")
    assert spec.termination_grace_period_seconds == 0
    assert spec.enable_service_links is False
    container = spec.containers[0]
    assert container.image_pull_policy == "Never"
    assert container.ports[0].protocol == "UDP"
    probe = container.liveness_probe
    assert (probe.timeout_seconds, probe.period_seconds, probe.success_threshold, probe.failure_threshold) == \
        (5, 7, 1, 9)


def test_probe_defaults():
    pod = _pod({"containers": [{"name": "c", "image": "b", "readiness_probe": {"http_get": {"port": {"number_value": 80}}}}]})
    probe = pod.spec.containers[0].readiness_probe
    assert (probe.timeout_seconds, probe.period_seconds, probe.success_threshold, probe.failure_threshold) == \
        (1, 10, 1, 3)
    assert (probe.http_get.path, probe.http_get.scheme) == ("/", "HTTP")


@pytest.mark.parametrize("tolerations, added", [
    ([], 2),
    ([{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
       "toleration_seconds": 60}], 1),
    ([{"key": "node.kubernetes.io/unreachable", "operator": "Exists"}], 1),  # any effect
    ([{"operator": "Exists"}], 0),                                         # tolerates everything
    ([{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoSchedule"}], 2),
])
def test_default_tolerations_only_when_not_already_tolerated(tolerations, added):
    pod = _pod({**MINIMAL_SPEC, "tolerations": tolerations})
    assert len(pod.spec.tolerations) == len(tolerations) + added
    if tolerations and tolerations[0].get("toleration_seconds"):
        assert pod.spec.tolerations[0].toleration_seconds == 60


def test_requests_default_from_limits_without_overwriting():
    pod = _pod({"containers": [{"name": "c", "image": "b", "resources": {
        "limits": {"cpu": "1", "memory": "128Mi"}, "requests": {"cpu": "250m"}}}]})
    resources = pod.spec.containers[0].resources
    assert dict(resources.requests) == {"cpu": "250m", "memory": "128Mi"}
    assert pod.status.qos_class == "Burstable"


@pytest.mark.parametrize("resources, qos", [
    ({}, "BestEffort"),
    ({"requests": {"cpu": "100m"}}, "Burstable"),
    ({"limits": {"cpu": "1", "memory": "1Gi"}}, "Guaranteed"),
    ({"limits": {"cpu": "1"}}, "Burstable"),
    ({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m", "memory": "1Gi"}}, "Guaranteed"),
])
def test_qos_class(resources, qos):
    assert _pod({"containers": [{"name": "c", "image": "b", "resources": resources}]}).status.qos_class == qos


def test_host_network_ports_and_volume_defaults():
    pod = _pod({"host_network": True,
                "containers": [{"name": "c", "image": "b", "ports": [{"container_port": 8080}]}],
                "volumes": [{"name": "scratch"}, {"name": "s", "secret": {"secret_name": "s"}},
                            {"name": "mine", "config_map": {"name": "c", "default_mode": 0o400}},
                            {"name": "token", "projected": {"sources": [
                                {"service_account_token": {"path": "token"}}]}}]})
    assert pod.spec.containers[0].ports[0].host_port == 8080
    scratch, secret, mine, token = pod.spec.volumes
    assert scratch.HasField("empty_dir")
    assert secret.secret.default_mode == 0o644
    assert mine.config_map.default_mode == 0o400
    assert token.projected.default_mode == 0o644
    assert token.projected.sources[0].service_account_token.expiration_seconds == 3600


def test_service_defaults():
    service = _defaulted("Service", metadata={"name": "s"}, spec={
        "ports": [{"port": 80}, {"port": 53, "protocol": "UDP", "target_port": {"string_value": "dns"}}]})
    spec = service.spec
    assert (spec.type, spec.session_affinity, spec.internal_traffic_policy) == ("ClusterIP", "None", "Cluster")
    assert spec.external_traffic_policy == ""
    assert convert.to_dict(service)["spec"]["ports"] == [
        {"protocol": "TCP", "port": 80, "targetPort": 80},
        {"protocol": "UDP", "port": 53, "targetPort": "dns"},
    ]
    sticky = _defaulted("Service", spec={"type": "NodePort", "session_affinity": "ClientIP", "ports": [{"port": 1}]})
    assert sticky.spec.session_affinity_config.client_ip.timeout_seconds == 10800
    assert sticky.spec.external_traffic_policy == "Cluster"


def test_deployment_defaults_and_user_values():
    deployment = admitted(load("deployment.yaml"))
    spec = deployment.spec
    assert (spec.replicas, spec.revision_history_limit, spec.progress_deadline_seconds) == (1, 10, 600)
    assert convert.to_dict(deployment)["spec"]["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec.template.spec.restart_policy == "Always"
    assert spec.template.spec.containers[0].image_pull_policy == "Always"
    assert not spec.template.spec.tolerations        # admission adds them to pods, not templates
    assert not spec.template.spec.HasField("enable_service_links")

    data = load("deployment.yaml")
    data["spec"].update(replicas=0, revisionHistoryLimit=0, strategy={"rollingUpdate": {"maxSurge": 0}})
    spec = admitted(data).spec
    assert (spec.replicas, spec.revision_history_limit) == (0, 0)
    assert convert.to_dict(spec.strategy) == {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 0}}

    data["spec"]["strategy"] = {"type": "Recreate"}
    assert not admitted(data).spec.strategy.HasField("rolling_update")


def test_replica_set_keeps_zero_replicas():
    assert _defaulted("ReplicaSet", spec={}).spec.replicas == 1
    assert _defaulted("ReplicaSet", spec={"replicas": 0}).spec.replicas == 0


@pytest.mark.parametrize("given, completions, parallelism", [
    ({}, 1, 1),
    ({"parallelism": 3}, None, 3),       # a work queue: no completion count
    ({"completions": 5}, 5, 1),
    ({"completions": 0, "parallelism": 0}, 0, 0),
])
def test_job_counts(given, completions, parallelism):
    spec = _defaulted("Job", spec=given).spec
    assert (spec.completions if spec.HasField("completions") else None) == completions
    assert spec.parallelism == parallelism
    assert (spec.backoff_limit, spec.completion_mode, spec.suspend) == (6, "NonIndexed", False)


def test_job_selects_its_own_pods_by_uid():
    job = admitted(load("job.yaml"))
    uid = job.metadata.uid
    assert dict(job.spec.selector.match_labels) == {defaults.JOB_CONTROLLER_UID_LABEL: uid}
    assert dict(job.spec.template.metadata.labels) == {
        "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi",
        "controller-uid": uid, "job-name": "pi"}
    assert job.spec.template.spec.restart_policy == "Never"

    manual = _defaulted("Job", metadata={"name": "m", "uid": "u"}, spec={"manual_selector": True})
    assert not manual.spec.HasField("selector")


def test_namespace_secret_priority_class_node():
    namespace = admitted(load("namespace.yaml"))
    assert namespace.status.phase == "Active"
    assert namespace.metadata.labels["kubernetes.io/metadata.name"] == "team"

    secret = _defaulted("Secret", data={"a": b"old", "b": b"kept"}, string_data={"a": "new", "c": "x"})
    assert (secret.type, dict(secret.data), dict(secret.string_data)) == \
        ("Opaque", {"a": b"new", "b": b"kept", "c": b"x"}, {})
    assert _defaulted("Secret", type="kubernetes.io/tls").type == "kubernetes.io/tls"

    assert _defaulted("PriorityClass").preemption_policy == "PreemptLowerPriority"
    assert _defaulted("PriorityClass", preemption_policy="Never").preemption_policy == "Never"

    node = _defaulted("Node", status={"capacity": {"cpu": "2", "pods": "110"}})
    assert dict(node.status.allocatable) == {"cpu": "2", "pods": "110"}
    node = _defaulted("Node", status={"capacity": {"cpu": "2"}, "allocatable": {"cpu": "1500m"}})
    assert dict(node.status.allocatable) == {"cpu": "1500m"}


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.name)
def test_defaults_are_idempotent(path):
    (data,) = convert.load_manifests(path.read_text())
    once = admitted(data)
    twice = type(once)()
    twice.CopyFrom(once)
    defaults.apply_defaults(twice)
    assert twice == once
