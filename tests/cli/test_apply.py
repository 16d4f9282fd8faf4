"""`cox apply`: manifests as Kubernetes users write them, created or updated; each document on its own, as kubectl applies them."""
import pathlib

import pytest
import yaml

from controlplane.api import convert

TESTDATA = pathlib.Path(__file__).parents[1] / "api" / "testdata"

CLASSIC_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: hello
  labels:
    app: hello
spec:
  containers:
  - name: hello
    image: busybox
    command: ["sh", "-c", "echo Hello && sleep 3600"]
"""


def test_classic_pod_is_stored_and_listed(cox, namespace):
    assert cox("apply", "-f", "-", "-n", namespace, stdin=CLASSIC_POD).stdout == "pod/hello created\n"
    lines = cox("get", "pods", "-n", namespace).stdout.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert lines[1].split()[:4] == ["hello", "0/1", "Pending", "0"]
    assert cox("apply", "-f", "-", "-n", namespace, stdin=CLASSIC_POD).stdout == "pod/hello unchanged\n"


@pytest.mark.parametrize("path", sorted(TESTDATA.iterdir()), ids=lambda p: p.name)
def test_kubectl_written_manifests_apply_unchanged(cox, path, request):
    """Each of kubectl's own manifests (creationTimestamp: null, status: {}, resources: {}) applies
    as written; applying it again changes nothing; delete -f removes it."""
    (data,) = convert.load_manifests(path.read_text())
    where = []
    if "namespace" not in data["metadata"]:
        where = ["-n", request.getfixturevalue("namespace")]
    first = cox("apply", "-f", str(path), *where).stdout
    assert first.startswith(data["kind"].lower()) and first.endswith(f"/{data['metadata']['name']} created\n")
    again = cox("apply", "-f", str(path), *where).stdout
    assert again == first.replace(" created", " unchanged")
    # Gone again, so manifests sharing cluster-wide things (a nodePort) do not collide.
    assert cox("delete", "-f", str(path), *where).stdout.endswith(f'"{data["metadata"]["name"]}" deleted\n')


@pytest.mark.parametrize("change, field", [
    ("    imagee: busybox", "spec.containers[0].imagee: unknown field"),
    ("    command: [sleep, '1']", "spec.containers[0].image: required"),
])
def test_bad_manifest_is_refused_by_field_and_nothing_is_stored(cox, namespace, change, field):
    manifest = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: a\n{change}\n"
    result = cox("apply", "-f", "-", "-n", namespace, stdin=manifest, ok=False)
    assert result.returncode != 0
    assert result.stderr.splitlines() == [f'error: Pod "bad" is invalid: {field}']
    assert result.stdout == ""
    missing = cox("get", "pod", "bad", "-n", namespace, ok=False)
    assert missing.returncode != 0 and 'pods "bad" not found' in missing.stderr


def test_refused_documents_are_reported_and_the_others_applied(cox, namespace, tmp_path):
    """A file mixing good documents with a server-refused one, a strictly-parsed bad field and an
    unknown kind: every good one is applied, each bad one gets its reason, and the exit status is 1."""
    cox("apply", "-f", "-", "-n", namespace, stdin=CLASSIC_POD)
    changed_pod = CLASSIC_POD.replace("app: hello", "app: changed")
    bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\nspec:\n  containers:\n  - name: a\n"
    typo = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\ndatta:\n  a: '1'\n"
    unknown = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: '1'\n"
    path = tmp_path / "all.yaml"
    path.write_text("---\n".join([bad, config_map, typo, unknown, changed_pod]))
    result = cox("apply", "-f", str(path), "-n", namespace, ok=False)
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["configmap/settings created", "pod/hello configured"]
    errors = result.stderr.splitlines()
    assert errors[0] == f'error: {path}: Pod "broken" is invalid: spec.containers[0].image: required'
    assert errors[1].startswith(f"error: {path}: ") and "datta" in errors[1]
    assert errors[2].startswith(f"error: {path}: ") and "Widget" in errors[2]
    assert len(errors) == 3
    assert cox("get", "configmap", "settings", "-n", namespace, "-o", "name").stdout == "configmap/settings\n"
    assert "app=changed" in cox("describe", "pod", "hello", "-n", namespace).stdout
    assert cox("get", "pod", "broken", "-n", namespace, ok=False).returncode != 0


async def test_reapply_after_binding_and_relabel(cox, namespace, api):
    cox("apply", "-f", "-", "-n", namespace, stdin=CLASSIC_POD)
    await api.resource("Pod").bind("hello", "node-a", namespace=namespace)
    assert cox("apply", "-f", "-", "-n", namespace, stdin=CLASSIC_POD).stdout == "pod/hello unchanged\n"
    relabelled = CLASSIC_POD.replace("app: hello", "app: hello\n    tier: web")
    assert cox("apply", "-f", "-", "-n", namespace, stdin=relabelled).stdout == "pod/hello configured\n"
    pod = await api.resource("Pod").get("hello", namespace=namespace)
    assert pod.spec.node_name == "node-a"
    assert dict(pod.metadata.labels) == {"app": "hello", "tier": "web"}


def test_get_yaml_and_json_round_trip_through_apply(cox, namespace, tmp_path):
    cox("apply", "-f", str(TESTDATA / "deployment.yaml"), "-n", namespace)
    for output in ("yaml", "json"):
        printed = cox("get", "deployment", "web", "-n", namespace, "-o", output).stdout
        assert yaml.safe_load(printed)["metadata"]["name"] == "web"
        assert cox("apply", "-f", "-", stdin=printed).stdout == "deployment.apps/web unchanged\n"


def test_namespace_mismatch_and_generate_name_are_refused(cox, namespace):
    pinned = CLASSIC_POD.replace("  name: hello\n", "  name: hello\n  namespace: elsewhere\n")
    result = cox("apply", "-f", "-", "-n", namespace, stdin=pinned, ok=False)
    assert result.returncode != 0 and 'namespace from the provided object "elsewhere"' in result.stderr
    generated = CLASSIC_POD.replace("  name: hello\n", "  generateName: hello-\n")
    result = cox("apply", "-f", "-", "-n", namespace, stdin=generated, ok=False)
    assert result.returncode != 0 and "generateName" in result.stderr


def test_create_refuses_existing_objects_and_makes_namespaces(cox, namespace):
    assert cox("create", "-f", "-", "-n", namespace, stdin=CLASSIC_POD).stdout == "pod/hello created\n"
    again = cox("create", "-f", "-", "-n", namespace, stdin=CLASSIC_POD, ok=False)
    assert again.returncode != 0 and again.stderr == 'error: pods "hello" already exists\n'
    assert cox("create", "namespace", f"{namespace}-x").stdout == f"namespace/{namespace}-x created\n"
    assert cox("get", "ns", f"{namespace}-x", "-o", "name").stdout == f"namespace/{namespace}-x\n"
