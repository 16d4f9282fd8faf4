"""Reading -f: files, directories, stdin, and every problem found before anything is written."""
import io

import pytest

from controlplane.cli import manifests
from controlplane.cli.common import CommandError

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
{namespace}spec:
  containers:
  - name: a
    {image_line}
"""


def pod_text(name, *, namespace="", image_line="image: busybox"):
    return POD.format(name=name, namespace=f"  namespace: {namespace}\n" if namespace else "",
                      image_line=image_line)


def test_directory_in_name_order_with_multi_documents_and_lists(tmp_path):
    (tmp_path / "b.yaml").write_text(pod_text("b1") + "---\n" + pod_text("b2"))
    (tmp_path / "a.json").write_text('{"apiVersion": "v1", "kind": "List", "items": ['
                                     '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}]}')
    (tmp_path / "notes.txt").write_text("not a manifest")
    loaded = manifests.load([str(tmp_path)], namespace=None)
    assert [(m.kind.name, m.namespace, m.name) for m in loaded] == [
        ("Namespace", "", "a"), ("Pod", "default", "b1"), ("Pod", "default", "b2")]


def test_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(pod_text("p").encode())))  # cox reads its bytes
    assert [m.name for m in manifests.load(["-"], namespace="team")] == ["p"]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(pod_text("p").encode())))  # cox reads its bytes
    assert manifests.load(["-"], namespace="team")[0].namespace == "team"


def test_every_bad_document_is_reported_by_file_and_field(tmp_path):
    path = tmp_path / "pods.yaml"
    path.write_text(pod_text("good") + "---\n" + pod_text("typo", image_line="imagee: busybox")
                    + "---\n" + pod_text("other", namespace="elsewhere"))
    with pytest.raises(manifests.ManifestsInvalid) as caught:
        manifests.load([str(path)], namespace="team")
    assert caught.value.problems == [
        f'{path}: Pod "typo" is invalid: spec.containers[0].imagee: unknown field',
        f'{path}: the namespace from the provided object "elsewhere" does not match the namespace "team". '
        "You must pass '--namespace=elsewhere' to perform this operation."]


def test_unreadable_and_empty_inputs(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        manifests.load([str(tmp_path / "missing.yaml")], namespace=None)
    (tmp_path / "empty.yaml").write_text("---\n")
    with pytest.raises(CommandError, match="no objects found"):
        manifests.load([str(tmp_path / "empty.yaml")], namespace=None)
    (tmp_path / "broken.yaml").write_text("a: [\n")
    with pytest.raises(CommandError, match="broken.yaml: document 1"):
        manifests.load([str(tmp_path / "broken.yaml")], namespace=None)
