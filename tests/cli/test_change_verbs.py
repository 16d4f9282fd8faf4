"""`cox label`, `annotate`, `patch` and `edit` against a real server, as kubectl users type them."""
import json
import os


def _deployment(cox, namespace, name="web"):
    cox("apply", "-n", namespace, "-f", "-", stdin=json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [
                     {"name": "c", "image": "busybox:local", "env": [{"name": "A", "value": "1"}]}]}}}}))


def _get(cox, namespace, what: str) -> dict:
    return json.loads(cox("get", what, "-n", namespace, "-o", "json").stdout)


def test_label_and_annotate(cox, namespace):
    _deployment(cox, namespace)
    assert cox("label", "deploy", "web", "-n", namespace, "tier=front").stdout == "deployment.apps/web labeled\n"
    refused = cox("label", "deploy/web", "tier=back", "-n", namespace, ok=False)
    assert refused.returncode == 1
    assert refused.stderr == "error: 'tier' already has a value (front), and --overwrite is false\n"
    cox("label", "deploy/web", "tier=back", "team=a", "--overwrite", "-n", namespace)
    assert cox("label", "deploy/web", "tier=back", "-n", namespace).stdout == "deployment.apps/web not labeled\n"
    cox("label", "deploy", "web", "team-", "-n", namespace)
    assert cox("annotate", "deploy", "--all", "-n", namespace, "note=hi").stdout == \
        "deployment.apps/web annotated\n"
    metadata = _get(cox, namespace, "deploy/web")["metadata"]
    assert metadata["labels"] == {"tier": "back"} and metadata["annotations"]["note"] == "hi"
    bad = cox("label", "deploy/web", "-n", namespace, "bad key!=x", ok=False)
    assert bad.returncode == 1 and "metadata.labels" in bad.stderr and "Traceback" not in bad.stderr


def test_patch_strategic_merge_and_json(cox, namespace):
    _deployment(cox, namespace)
    strategic = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}}}}
    assert cox("patch", "deploy", "web", "-n", namespace, "-p", json.dumps(strategic)).stdout == \
        "deployment.apps/web patched\n"
    container = _get(cox, namespace, "deploy/web")["spec"]["template"]["spec"]["containers"][0]
    assert (container["image"], container["env"]) == ("busybox:2", [{"name": "A", "value": "1"}])  # merged by name
    cox("patch", "deploy/web", "-n", namespace, "--type", "merge", "-p", "spec: {replicas: 3}")
    cox("patch", "deploy/web", "-n", namespace, "--type=json",
        "-p", '[{"op": "replace", "path": "/spec/replicas", "value": 2}]')
    assert _get(cox, namespace, "deploy/web")["spec"]["replicas"] == 2
    same = cox("patch", "deploy/web", "-n", namespace, "--type", "merge", "-p", '{"spec": {"replicas": 2}}')
    assert same.stdout == "deployment.apps/web patched (no change)\n"
    bad = cox("patch", "deploy/web", "-n", namespace, "--type=json",
              "-p", '[{"op": "remove", "path": "/spec/nothing"}]', ok=False)
    assert (bad.returncode, bad.stderr) == (1, 'error: the patch does not apply: path "/spec/nothing": not found\n')
    unknown = cox("patch", "deploy/web", "-n", namespace, "-p", '{"spec": {"replicaz": 1}}', ok=False)
    assert unknown.returncode == 1 and "spec.replicaz: unknown field" in unknown.stderr
    assert _get(cox, namespace, "deploy/web")["spec"]["replicas"] == 2


def test_edit_with_an_editor_script(cox, namespace):
    _deployment(cox, namespace)
    edited = cox("edit", "deploy/web", "-n", namespace, env={"EDITOR": "sed -i 's/replicas: 1/replicas: 4/'"})
    assert edited.stdout == "deployment.apps/web edited\n"
    assert _get(cox, namespace, "deploy/web")["spec"]["replicas"] == 4
    assert cox("edit", "deploy", "web", "-n", namespace, env={"EDITOR": "true"}).stdout == \
        "Edit cancelled, no changes made.\n"
    refused = cox("edit", "deploy/web", "-n", namespace, env={"EDITOR": "sed -i 's/replicas: 4/replicaz: 5/'"},
                  ok=False)
    assert refused.returncode == 1 and "spec.replicaz: unknown field" in refused.stderr
    kept = refused.stderr.rsplit('"', 2)[1]
    with open(kept) as f:
        assert "replicaz: 5" in f.read()
    os.unlink(kept)
    assert _get(cox, namespace, "deploy/web")["spec"]["replicas"] == 4
