"""`cox get` tables: kubectl's columns and cell rules for every kind."""
from controlplane.api.kinds import KINDS
from controlplane.api.wellknown import NODE_LEASE_NAMESPACE
from controlplane.cli.printing.columns import table
from controlplane.cli.printing.table import Table

NOW = 1_700_000_000
CREATED = {"seconds": NOW - 300}


def render(kind: str, objects, **options) -> list[str]:
    header, rows = table(KINDS[kind], objects, now=NOW, **options)
    return Table(header).lines(rows, header=True)


def obj(kind: str, name: str, namespace: str = "default", **fields):
    meta = {"name": name, "creation_timestamp": CREATED, **fields.pop("metadata", {})}
    if KINDS[kind].namespaced:
        meta["namespace"] = namespace
    return KINDS[kind].new(metadata=meta, **fields)


def test_pods_plain_wide_and_all_namespaces():
    pod = obj("Pod", "web", spec={"node_name": "node1", "containers": [{"name": "a", "image": "x"}]},
              status={"phase": "Running", "pod_ip": "10.244.1.5", "container_statuses": [
                  {"name": "a", "ready": True, "state": {"running": {}}}]})
    assert render("Pod", [pod]) == [
        "NAME   READY   STATUS    RESTARTS   AGE",
        "web    1/1     Running   0          5m"]
    assert render("Pod", [pod], wide=True)[1].split() == [
        "web", "1/1", "Running", "0", "5m", "10.244.1.5", "node1", "<none>"]
    assert render("Pod", [pod], namespaces=True)[0].split()[:2] == ["NAMESPACE", "NAME"]


def test_nodes_status_roles_version():
    ready = obj("Node", "n1", metadata={"labels": {"node-role.kubernetes.io/control-plane": ""}},
                spec={"unschedulable": True},
                status={"conditions": [{"type": "Ready", "status": "True"}],
                        "node_info": {"kubelet_version": "v0.1.0"}})
    down = obj("Node", "n2", status={"conditions": [{"type": "Ready", "status": "Unknown"}]})
    fresh = obj("Node", "n3")
    lines = render("Node", [ready, down, fresh])
    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert lines[1].split() == ["n1", "Ready,SchedulingDisabled", "control-plane", "5m", "v0.1.0"]
    assert lines[2].split() == ["n2", "NotReady", "<none>", "5m"]
    assert lines[3].split() == ["n3", "Unknown", "<none>", "5m"]
    # Namespaces never show for cluster-scoped kinds.
    assert render("Node", [fresh], namespaces=True)[0].split()[0] == "NAME"


def test_deployments_and_replica_sets():
    template = {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1"}]}}
    deploy = obj("Deployment", "web", spec={"replicas": 3, "selector": {"match_labels": {"app": "web"}},
                                            "template": template},
                 status={"ready_replicas": 2, "updated_replicas": 3, "available_replicas": 2})
    assert render("Deployment", [deploy], wide=True) == [
        "NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES    SELECTOR",
        "web    2/3     3            2           5m    web          nginx:1   app=web"]
    rs = obj("ReplicaSet", "web-1", spec={"replicas": 3}, status={"replicas": 3, "ready_replicas": 1})
    assert render("ReplicaSet", [rs])[1].split() == ["web-1", "3", "3", "1", "5m"]


def test_jobs_status_completions_duration():
    done = obj("Job", "pi", spec={"completions": 1},
               status={"succeeded": 1, "start_time": {"seconds": NOW - 100},
                       "completion_time": {"seconds": NOW - 40},
                       "conditions": [{"type": "Complete", "status": "True"}]})
    running = obj("Job", "work", spec={"parallelism": 3}, status={"start_time": {"seconds": NOW - 10}})
    lines = render("Job", [done, running])
    assert lines[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert lines[1].split() == ["pi", "Complete", "1/1", "60s", "5m"]
    assert lines[2].split() == ["work", "Running", "0/1", "of", "3", "10s", "5m"]


def test_cron_jobs_schedule_suspend_active_last_schedule():
    template = {"spec": {"template": {"spec": {"containers": [{"name": "tick", "image": "busybox"}]}}}}
    ticking = obj("CronJob", "tick", spec={"schedule": "*/5 * * * *", "suspend": False, "job_template": template},
                  status={"active": [{"name": "tick-1"}], "last_schedule_time": {"seconds": NOW - 120}})
    paused = obj("CronJob", "nightly", spec={"schedule": "@daily", "time_zone": "Europe/Paris", "suspend": True})
    lines = render("CronJob", [ticking, paused], wide=True)
    assert lines[0].split() == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE",
                                "CONTAINERS", "IMAGES", "SELECTOR"]
    assert lines[1].split() == ["tick", "*/5", "*", "*", "*", "*", "<none>", "False", "1", "2m", "5m", "tick",
                                "busybox", "<none>"]
    assert lines[2].split()[:6] == ["nightly", "@daily", "Europe/Paris", "True", "0", "<none>"]


def test_daemon_sets():
    ds = obj("DaemonSet", "logs", spec={"template": {"spec": {"node_selector": {"disk": "ssd"}}}},
             status={"desired_number_scheduled": 3, "current_number_scheduled": 3, "number_ready": 2,
                     "updated_number_scheduled": 1, "number_available": 2})
    assert render("DaemonSet", [ds])[1].split() == ["logs", "3", "3", "2", "1", "2", "disk=ssd", "5m"]


def test_services_ports_and_external_ips():
    cluster_ip = obj("Service", "web", spec={"type": "ClusterIP", "cluster_ip": "10.96.0.10",
                                             "ports": [{"port": 80, "protocol": "TCP"},
                                                       {"port": 53, "protocol": "UDP"}],
                                             "selector": {"app": "web", "tier": "fe"}})
    node_port = obj("Service", "np", spec={"type": "NodePort", "cluster_ip": "10.96.0.11",
                                           "external_ips": ["192.0.2.1"],
                                           "ports": [{"port": 80, "node_port": 30080, "protocol": "TCP"}]})
    balanced = obj("Service", "lb", spec={"type": "LoadBalancer", "cluster_ip": "10.96.0.12",
                                          "ports": [{"port": 80, "node_port": 30081, "protocol": "TCP"}]},
                   status={"load_balancer": {"ingress": [{"ip": "198.18.0.11"}, {"ip": "198.18.0.12"}]}})
    pending = obj("Service", "wait", spec={"type": "LoadBalancer", "cluster_ip": "10.96.0.13",
                                           "ports": [{"port": 80, "protocol": "TCP"}]})
    alias = obj("Service", "search", spec={"type": "ExternalName", "external_name": "www.example.com"})
    lines = render("Service", [cluster_ip, node_port, balanced, pending, alias], wide=True)
    assert lines[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]
    assert lines[1].split() == ["web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,53/UDP", "5m",
                                "app=web,tier=fe"]
    assert lines[2].split() == ["np", "NodePort", "10.96.0.11", "192.0.2.1", "80:30080/TCP", "5m", "<none>"]
    assert lines[3].split() == ["lb", "LoadBalancer", "10.96.0.12", "198.18.0.11,198.18.0.12", "80:30081/TCP",
                                "5m", "<none>"]
    assert lines[4].split()[:4] == ["wait", "LoadBalancer", "10.96.0.13", "<pending>"]
    assert lines[5].split() == ["search", "ExternalName", "<none>", "www.example.com", "<none>", "5m", "<none>"]


def test_endpoints_show_three_and_count_the_rest():
    ep = obj("Endpoints", "web", subsets=[{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 6)],
                                           "ports": [{"port": 8080}]}])
    empty = obj("Endpoints", "none")
    lines = render("Endpoints", [ep, empty])
    assert lines[1].split(None, 1)[1] == "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 2 more...   5m"
    assert lines[2].split() == ["none", "<none>", "5m"]


def test_config_maps_secrets_service_accounts_namespaces():
    assert render("ConfigMap", [obj("ConfigMap", "c", data={"a": "1", "b": "2"},
                                    binary_data={"c": b"x"})])[1].split() == ["c", "3", "5m"]
    assert render("Secret", [obj("Secret", "s", type="Opaque", data={"k": b"v"})]) == [
        "NAME   TYPE     DATA   AGE", "s      Opaque   1      5m"]
    assert render("ServiceAccount", [obj("ServiceAccount", "sa")])[1].split() == ["sa", "0", "5m"]
    assert render("Namespace", [obj("Namespace", "team", status={"phase": "Active"})]) == [
        "NAME   STATUS   AGE", "team   Active   5m"]


def test_events_columns():
    event = obj("Event", "web.1", involved_object={"kind": "Pod", "name": "web"}, type="Warning",
                reason="BackOff", message="Back-off restarting failed container\n", count=3,
                source={"component": "kubelet", "host": "node1"},
                first_timestamp={"seconds": NOW - 600}, last_timestamp={"seconds": NOW - 30})
    lines = render("Event", [event])
    assert lines == [
        "LAST SEEN   TYPE      REASON    OBJECT    MESSAGE",
        "30s         Warning   BackOff   pod/web   Back-off restarting failed container"]
    wide = render("Event", [event], wide=True)[1]
    assert wide.endswith("kubelet, node1   10m          3       web.1")


def test_leases_and_priority_classes():
    lease = obj("Lease", "node1", namespace=NODE_LEASE_NAMESPACE, spec={"holder_identity": "node1"})
    assert render("Lease", [lease])[1].split() == ["node1", "node1", "5m"]
    pc = obj("PriorityClass", "high", value=1000, global_default=True, preemption_policy="Never")
    assert render("PriorityClass", [pc]) == [
        "NAME   VALUE   GLOBAL-DEFAULT   AGE   PREEMPTIONPOLICY",
        "high   1000    true             5m    Never"]


def test_table_columns_only_grow_so_watch_rows_line_up():
    t = Table(["NAME", "AGE"])
    assert t.lines([["a", "1s"]], header=True) == ["NAME   AGE", "a      1s"]
    assert t.lines([["longer-name", "2s"]]) == ["longer-name   2s"]
    assert t.lines([["b", "3s"]]) == ["b             3s"]
