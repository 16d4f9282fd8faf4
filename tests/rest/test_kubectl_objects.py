"""kubectl's everyday verbs on objects: apply (client and server side), get, describe, label, patch, delete."""
import json
import subprocess

import yaml

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: busybox:local
        command: ["sleep", "3600"]
        ports:
        - containerPort: 80
        env:
        - {name: A, value: "1"}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  a: "1"
"""


def test_apply_creates_then_reapply_is_unchanged_then_a_change_is_configured(kubectl, namespace):
    first = kubectl("apply", "-n", namespace, "-f", "-", stdin=DEPLOYMENT).stdout
    assert "deployment.apps/web created" in first and "service/web created" in first
    again = kubectl("apply", "-n", namespace, "-f", "-", stdin=DEPLOYMENT).stdout
    assert again.split("\n")[:3] == ["deployment.apps/web unchanged", "service/web unchanged",
                                     "configmap/cfg unchanged"]
    changed = DEPLOYMENT.replace("replicas: 2", "replicas: 3").replace('value: "1"', 'value: "2"')
    assert "deployment.apps/web configured" in kubectl("apply", "-n", namespace, "-f", "-", stdin=changed).stdout
    deployment = kubectl.json("get", "deploy", "web", "-n", namespace)
    assert deployment["spec"]["replicas"] == 3
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "A", "value": "2"}]
    assert container["ports"][0]["containerPort"] == 80
    assert "kubectl.kubernetes.io/last-applied-configuration" in deployment["metadata"]["annotations"]


def test_apply_removes_what_the_manifest_no_longer_has(kubectl, namespace):
    kubectl("apply", "-n", namespace, "-f", "-", stdin=DEPLOYMENT)
    without_env = DEPLOYMENT.replace('        env:\n        - {name: A, value: "1"}\n', "")
    kubectl("apply", "-n", namespace, "-f", "-", stdin=without_env)
    container = kubectl.json("get", "deploy", "web", "-n", namespace)["spec"]["template"]["spec"]["containers"][0]
    assert "env" not in container


def test_server_side_apply_twice(kubectl, namespace):
    out = kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=DEPLOYMENT).stdout
    assert "deployment.apps/web serverside-applied" in out
    rv = kubectl.json("get", "cm", "cfg", "-n", namespace)["metadata"]["resourceVersion"]
    kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=DEPLOYMENT)
    assert kubectl.json("get", "cm", "cfg", "-n", namespace)["metadata"]["resourceVersion"] == rv
    changed = DEPLOYMENT.replace('a: "1"', 'a: "2"')
    kubectl("apply", "--server-side", "-n", namespace, "-f", "-", stdin=changed)
    assert kubectl.json("get", "cm", "cfg", "-n", namespace)["data"] == {"a": "2"}


def test_get_output_formats(kubectl, namespace):
    kubectl("apply", "-n", namespace, "-f", "-", stdin=DEPLOYMENT)
    table = kubectl("get", "deploy", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].startswith("web ")
    wide = kubectl("get", "deploy", "-n", namespace, "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1].split()[-3:] == ["c", "busybox:local", "app=web"]
    everywhere = kubectl("get", "cm", "-A").stdout.splitlines()
    assert everywhere[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert any(line.split()[:2] == [namespace, "cfg"] for line in everywhere)
    assert yaml.safe_load(kubectl("get", "svc", "web", "-n", namespace, "-o", "yaml").stdout)["spec"]["ports"][0][
        "port"] == 80
    listed = kubectl.json("get", "svc", "-n", namespace)
    assert listed["kind"] == "List" and listed["items"][0]["metadata"]["name"] == "web"
    assert kubectl("get", "cm", "cfg", "-n", namespace, "-o", "jsonpath={.data.a}").stdout == "1"
    labelled = kubectl("get", "deploy", "-n", namespace, "-l", "app=web", "-o", "name").stdout
    assert labelled.strip() == "deployment.apps/web"
    assert "No resources found" in kubectl("get", "deploy", "-n", namespace, "-l", "app=other").stderr
    by_field = kubectl("get", "cm", "-n", namespace, "--field-selector", "metadata.name=cfg", "-o", "name").stdout
    assert by_field.strip() == "configmap/cfg"


def test_get_pages_through_with_chunk_size(kubectl, namespace):
    for n in range(5):
        kubectl("create", "-n", namespace, "-f", "-", stdin=json.dumps(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"page{n}"}}))
    names = kubectl("get", "cm", "-n", namespace, "--chunk-size=2", "-o", "name").stdout.split()
    assert names == [f"configmap/page{n}" for n in range(5)]


def test_describe(kubectl, namespace):
    kubectl("apply", "-n", namespace, "-f", "-", stdin=DEPLOYMENT)
    text = kubectl("describe", "svc", "web", "-n", namespace).stdout
    assert "Name:" in text and "web" in text and "Selector:" in text and "app=web" in text


def test_label_annotate_and_the_three_patch_types(kubectl, namespace):
    kubectl("apply", "-n", namespace, "-f", "-", stdin=DEPLOYMENT)
    assert "labeled" in kubectl("label", "cm", "cfg", "-n", namespace, "tier=db").stdout
    assert "annotated" in kubectl("annotate", "cm", "cfg", "-n", namespace, "note=hi").stdout
    kubectl("patch", "cm", "cfg", "-n", namespace, "-p", '{"data":{"b":"2"}}')
    kubectl("patch", "cm", "cfg", "-n", namespace, "--type=merge", "-p", '{"data":{"c":"3"}}')
    kubectl("patch", "cm", "cfg", "-n", namespace, "--type=json", "-p", '[{"op":"remove","path":"/data/a"}]')
    cfg = kubectl.json("get", "cm", "cfg", "-n", namespace)
    assert cfg["data"] == {"b": "2", "c": "3"}
    assert cfg["metadata"]["labels"] == {"tier": "db"}
    assert cfg["metadata"]["annotations"]["note"] == "hi"
    # A strategic merge patch merges containers by name rather than replacing the list.
    kubectl("patch", "deploy", "web", "-n", namespace, "-p",
            '{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:two"}]}}}}')
    container = kubectl.json("get", "deploy", "web", "-n", namespace)["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "busybox:two" and container["command"] == ["sleep", "3600"]
    kubectl("label", "cm", "cfg", "-n", namespace, "tier-")
    assert "labels" not in kubectl.json("get", "cm", "cfg", "-n", namespace)["metadata"]


def test_scale_through_the_scale_subresource(kubectl, namespace):
    kubectl("apply", "-n", namespace, "-f", "-", stdin=DEPLOYMENT)
    assert "scaled" in kubectl("scale", "deploy", "web", "-n", namespace, "--replicas=4").stdout
    assert kubectl.json("get", "deploy", "web", "-n", namespace)["spec"]["replicas"] == 4
    scale = json.loads(kubectl("get", "--raw",
                               f"/apis/apps/v1/namespaces/{namespace}/deployments/web/scale").stdout)
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 4


def test_delete(kubectl, namespace):
    kubectl("apply", "-n", namespace, "-f", "-", stdin=DEPLOYMENT)
    assert 'configmap "cfg" deleted' in kubectl("delete", "cm", "cfg", "-n", namespace).stdout
    assert "NotFound" in kubectl("get", "cm", "cfg", "-n", namespace, ok=False).stderr


def test_dry_run_server_writes_nothing(kubectl, namespace):
    out = kubectl("apply", "--dry-run=server", "-n", namespace, "-f", "-", stdin=DEPLOYMENT).stdout
    assert "created (server dry run)" in out
    assert "No resources found" in kubectl("get", "deploy,svc,cm", "-n", namespace).stderr


def test_edit_with_an_editor(kubectl, namespace, tmp_path):
    kubectl("apply", "-n", namespace, "-f", "-", stdin=DEPLOYMENT)
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nsed -i \'s/a: "1"/a: "9"/\' "$1"\n')
    editor.chmod(0o755)
    result = subprocess.run(kubectl.command("edit", "cm", "cfg", "-n", namespace), capture_output=True,
                            text=True, env=kubectl.env() | {"EDITOR": str(editor)}, timeout=60)
    assert result.returncode == 0 and "configmap/cfg edited" in result.stdout, result.stderr
    assert kubectl.json("get", "cm", "cfg", "-n", namespace)["data"] == {"a": "9"}


def test_rollout_restart_and_wait(kubectl, namespace):
    kubectl("apply", "-n", namespace, "-f", "-", stdin=DEPLOYMENT)
    assert "restarted" in kubectl("rollout", "restart", "deploy/web", "-n", namespace).stdout
    annotations = kubectl.json("get", "deploy", "web", "-n", namespace)["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    waiting = kubectl.popen("wait", "--for=delete", "cm/cfg", "-n", namespace, "--timeout=30s")
    kubectl("delete", "cm", "cfg", "-n", namespace, "--wait=false")
    assert waiting.wait(40) == 0, waiting.stderr.read()
    result = kubectl("wait", "--for=jsonpath={.spec.replicas}=2", "deploy/web", "-n", namespace, "--timeout=10s")
    assert "condition met" in result.stdout
