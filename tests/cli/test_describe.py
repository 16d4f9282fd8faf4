"""`cox describe` pages: key fields per kind, aligned, and the Events table."""
from controlplane.api import convert, defaults
from controlplane.api.kinds import KINDS
from controlplane.api.wellknown import NODE_LEASE_NAMESPACE
from controlplane.cli.printing.describe import describe, title
from controlplane.cli.printing.describe_pods import volumes
from controlplane.cli.printing.page import Page

NOW = 1_700_000_000


def event(reason, message, *, last, first=None, count=1, type="Normal", component="kubelet"):
    return KINDS["Event"].new(
        metadata={"name": f"web.{reason}", "namespace": "default"},
        involved_object={"kind": "Pod", "name": "web", "namespace": "default"},
        reason=reason, message=message, type=type, count=count, source={"component": component},
        first_timestamp={"seconds": NOW - (first or last)}, last_timestamp={"seconds": NOW - last})


def test_pod_page_has_its_state_and_events_oldest_first():
    pod = KINDS["Pod"].new(
        metadata={"name": "web", "namespace": "default", "labels": {"app": "web", "tier": "fe"}},
        spec={"node_name": "node1", "containers": [{
            "name": "app", "image": "busybox", "command": ["sleep", "3600"],
            "ports": [{"container_port": 8080, "protocol": "TCP"}],
            "env": [{"name": "GREETING", "value": "hello"}],
            "liveness_probe": {"http_get": {"path": "/healthz", "port": {"number_value": 8080}},
                               "period_seconds": 10, "timeout_seconds": 1, "success_threshold": 1,
                               "failure_threshold": 3}}]},
        status={"phase": "Running", "host_ip": "192.168.1.2", "pod_ip": "10.244.1.5",
                "pod_ips": [{"ip": "10.244.1.5"}],
                "conditions": [{"type": "Ready", "status": "True"}],
                "container_statuses": [{"name": "app", "ready": True, "restart_count": 1,
                                        "state": {"running": {"started_at": {"seconds": NOW - 60}}}}]})
    events = [event("Started", "Started container app", last=50, first=900, count=2),
              event("Scheduled", "Successfully assigned default/web to node1", last=1000,
                    component="default-scheduler")]
    page = describe(KINDS["Pod"], pod, events=events, now=NOW).splitlines()
    assert page[0] == "Name:             web"
    assert "Node:             node1/192.168.1.2" in page
    assert "Labels:           app=web" in page and "                  tier=fe" in page
    assert "Status:           Running" in page
    assert "    Liveness:       http-get http://:8080/healthz delay=0s timeout=1s period=10s " \
           "#success=1 #failure=3" in page
    assert "      GREETING:  hello" in page
    assert "    Restart Count:  1" in page
    assert page[-5:] == [
        "Events:",
        "  Type    Reason     Age                From               Message",
        "  ----    ------     ---                ----               -------",
        "  Normal  Scheduled  16m                default-scheduler  Successfully assigned default/web to node1",
        "  Normal  Started    50s (x2 over 15m)  kubelet            Started container app",
    ]


def test_no_events_says_none():
    ns = KINDS["Namespace"].new(metadata={"name": "team"}, status={"phase": "Active"})
    assert describe(KINDS["Namespace"], ns, events=[], now=NOW).splitlines() == [
        "Name:         team",
        "Labels:       <none>",
        "Annotations:  <none>",
        "Status:       Active",
        "Events:       <none>",
    ]


def test_deployment_page_from_a_kubectl_manifest():
    with open("tests/api/testdata/deployment.yaml") as f:
        deploy = convert.from_manifest(convert.load_manifests(f.read())[0])
    deploy.metadata.namespace = "default"
    defaults.apply_defaults(deploy)
    page = describe(KINDS["Deployment"], deploy, events=[], now=NOW)
    assert "Replicas:               1 desired | 0 updated | 0 total | 0 available | 0 unavailable" in page
    assert "RollingUpdateStrategy:  25% max unavailable, 25% max surge" in page
    assert "Pod Template:\n  Labels:  app=web\n  Containers:\n" in page


def test_load_balancer_service_page_from_a_kubectl_manifest():
    with open("tests/api/testdata/service-loadbalancer.yaml") as f:
        svc = convert.from_manifest(convert.load_manifests(f.read())[0])
    svc.metadata.namespace = "default"
    svc.spec.external_traffic_policy, svc.spec.health_check_node_port = "Local", 31500
    defaults.apply_defaults(svc)
    svc.status.load_balancer.ingress.add(ip="198.18.0.11")
    svc.status.load_balancer.ingress.add(ip="198.18.0.12")
    page = describe(KINDS["Service"], svc, events=[], now=NOW).splitlines()
    assert "LoadBalancer Ingress:     198.18.0.11, 198.18.0.12" in page
    assert "External Traffic Policy:  Local" in page and "HealthCheck NodePort:     31500" in page


def test_other_kinds_are_shown_field_by_field():
    lease = KINDS["Lease"].new(metadata={"name": "node1", "namespace": NODE_LEASE_NAMESPACE},
                               spec={"holder_identity": "node1", "lease_duration_seconds": 40})
    page = describe(KINDS["Lease"], lease, events=[], now=NOW).splitlines()
    assert page[:4] == ["Name:         node1", "Namespace:    kube-node-lease", "Labels:       <none>",
                        "Annotations:  <none>"]
    assert "Spec:" in page
    assert "  Holder Identity:         node1" in page
    assert title("podCIDR") == "Pod CIDR" and title("holderIdentity") == "Holder Identity"


def test_a_heading_line_restarts_alignment():
    page = Page()
    page.add("Short", "1")
    page.add("A Longer Label", "2")
    page.add("Section")
    page.add("X", "3", level=1)
    assert page.render().splitlines() == [
        "Short:           1", "A Longer Label:  2", "Section:", "  X:  3"]


def test_a_downward_api_volume_lists_its_files_as_kubectl_does():
    pod = convert.from_manifest({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "containers": [{"name": "c", "image": "i"}],
        "volumes": [{"name": "info", "downwardAPI": {"items": [
            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
            {"path": "mem", "resourceFieldRef": {"containerName": "c", "resource": "limits.memory"}}]}}]}})
    page = Page()
    volumes(page, pod.spec.volumes)
    assert page.render().splitlines()[2:] == [
        "    Type:  DownwardAPI (a volume populated by information about the pod)", "    Items:",
        "      metadata.labels -> labels", "      limits.memory -> mem"]
