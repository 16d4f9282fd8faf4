"""Manifests <-> messages: kubectl's output parses and round-trips; mistakes are named by path."""
import copy
import json

import pytest

from controlplane.api import convert, kinds, validation
from controlplane.api.errors import InvalidError, ManifestError
from tests.api.manifests import admitted, fixture_files, load, without_nulls


def _errors(data: dict) -> list[str]:
    with pytest.raises(InvalidError) as caught:
        convert.from_manifest(data)
    return [str(e) for e in caught.value.errors]


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.name)
def test_kubectl_manifests_parse_default_validate_and_round_trip(path):
    (data,) = convert.load_manifests(path.read_text(), source=path.name)
    obj = convert.from_manifest(data)
    assert convert.to_dict(obj) == without_nulls(data)

    prepared = admitted(data)
    assert validation.validate_create(prepared) == []
    # Defaulted objects survive dict and YAML and back unchanged.
    text = convert.to_yaml(convert.to_dict(prepared))
    (again,) = convert.load_manifests(text)
    assert convert.from_manifest(again) == prepared


def test_deployment_reads_as_kubectl_wrote_it():
    obj = convert.from_manifest(load("deployment.yaml"))
    assert obj.spec.replicas == 1
    assert obj.spec.HasField("strategy")          # `strategy: {}` is present, though empty
    assert obj.spec.template.spec.containers[0].HasField("resources")
    assert not obj.metadata.HasField("creation_timestamp")  # creationTimestamp: null
    out = convert.to_dict(obj)
    assert list(out) == ["apiVersion", "kind", "metadata", "spec", "status"]
    assert out["status"] == {}


def test_json_manifest_parses_like_yaml():
    from_json = convert.load_manifests((fixture_files()[0].parent / "service-nodeport.json").read_text())
    from_yaml = [load("service-nodeport.yaml")]
    assert from_json == from_yaml


def test_unknown_field_is_named_with_its_full_path():
    data = load("deployment.yaml")
    data["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    data["spec"]["replicaz"] = 2
    assert _errors(data) == [
        "spec.template.spec.containers[0].imagePullPolicyy: unknown field",
        "spec.replicaz: unknown field",
    ]


def test_snake_case_names_are_unknown_fields():
    data = load("deployment.yaml")
    data["spec"]["min_ready_seconds"] = 5
    assert _errors(data) == ["spec.min_ready_seconds: unknown field"]


@pytest.mark.parametrize("field, value, reason", [
    ("replicas", "3", "must be an integer"),
    ("replicas", 1.5, "must be an integer"),
    ("replicas", True, "must be an integer"),
    ("replicas", 2**31, "2147483648 is out of range -2147483648..2147483647"),
    ("paused", "yes", "must be a boolean"),
    ("selector", "app=web", "must be an object"),
    ("template", [], "must be an object"),
])
def test_wrong_types_are_named(field, value, reason):
    data = load("deployment.yaml")
    data["spec"][field] = value
    assert _errors(data) == [f"spec.{field}: {reason}"]


def test_all_errors_are_reported_at_once():
    data = load("deployment.yaml")
    data["metadata"]["labels"]["app"] = 1
    data["spec"]["template"]["spec"]["containers"][0]["command"] = "sleep 1"
    data["spec"]["template"]["spec"]["containers"][0]["args"] = ["a", 2]
    data["spec"]["nope"] = {}
    with pytest.raises(InvalidError) as caught:
        convert.from_manifest(data)
    assert str(caught.value) == (
        'Deployment "web" is invalid: metadata.labels[app]: must be a string; '
        "spec.template.spec.containers[0].command: must be a list; "
        "spec.template.spec.containers[0].args[1]: must be a string; spec.nope: unknown field")
    assert (caught.value.kind, caught.value.name) == ("Deployment", "web")


def test_null_means_unset():
    data = load("deployment.yaml")
    data["spec"]["replicas"] = None
    data["spec"]["template"]["spec"]["containers"][0]["resources"] = None
    obj = convert.from_manifest(data)
    assert not obj.spec.HasField("replicas")
    assert not obj.spec.template.spec.containers[0].HasField("resources")


@pytest.mark.parametrize("value, expected", [(8080, 8080), ("http", "http")])
def test_int_or_string_keeps_its_form(value, expected):
    data = load("service-clusterip.yaml")
    data["spec"]["ports"][0]["targetPort"] = value
    out = convert.to_dict(convert.from_manifest(data))
    assert out["spec"]["ports"][0]["targetPort"] == expected
    assert type(out["spec"]["ports"][0]["targetPort"]) is type(expected)


@pytest.mark.parametrize("value", [True, 1.5, 2**40, [], {"a": 1}])
def test_int_or_string_rejects_anything_else(value):
    data = load("service-clusterip.yaml")
    data["spec"]["ports"][0]["targetPort"] = value
    assert _errors(data) == ["spec.ports[0].targetPort: must be an integer or a string"]


def test_secret_data_is_base64_and_bad_base64_is_a_field_error():
    obj = convert.from_manifest(load("secret.yaml"))
    assert obj.data["password"] == b"hunter2"
    data = load("secret.yaml")
    data["data"]["password"] = "not base64!"
    assert _errors(data) == ["data[password]: must be base64-encoded data"]


def test_timestamps_are_rfc3339_in_utc():
    data = load("configmap.yaml")
    data["metadata"]["creationTimestamp"] = "2024-01-01T02:00:00+02:00"
    obj = convert.from_manifest(data)
    assert convert.to_dict(obj)["metadata"]["creationTimestamp"] == "2024-01-01T00:00:00Z"
    data["metadata"]["creationTimestamp"] = "2024-01-01T00:00:00.250Z"
    assert convert.to_dict(convert.from_manifest(data))["metadata"]["creationTimestamp"] == \
        "2024-01-01T00:00:00.25Z"
    data["metadata"]["creationTimestamp"] = "yesterday"
    assert _errors(data) == ['metadata.creationTimestamp: must be an RFC 3339 time like "2024-01-01T00:00:00Z"']


def test_unquoted_timestamps_and_dates_in_yaml_stay_strings():
    (data,) = convert.load_manifests(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  creationTimestamp: 2024-01-01T00:00:00Z\n"
        "data:\n  day: 2024-01-01\n")
    obj = convert.from_manifest(data)
    assert obj.data["day"] == "2024-01-01"
    assert obj.metadata.creation_timestamp.seconds == 1704067200


def test_unknown_kind_and_wrong_api_version():
    assert _errors({"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "x"}}) == \
        ['kind: kind "PodSecurityPolicy" is not supported']
    assert _errors({"apiVersion": "v1", "kind": "Deployment"}) == \
        ['apiVersion: kind "Deployment" is served as apiVersion "apps/v1", not "v1"']
    assert _errors({"metadata": {"name": "x"}}) == ["apiVersion: required", "kind: required"]


def test_parse_without_api_version_fills_it_in():
    pod = convert.parse(kinds.by_name("Pod"), {"metadata": {"name": "p"}, "spec": {"containers": []}})
    assert (pod.api_version, pod.kind) == ("v1", "Pod")
    with pytest.raises(InvalidError) as caught:
        convert.parse(kinds.by_name("Pod"), {"kind": "Service"})
    assert [str(e) for e in caught.value.errors] == ['kind: must be "Pod"']


def test_to_dict_puts_identity_first_and_omits_empty_fields():
    obj = admitted(load("configmap.yaml"))
    out = convert.to_dict(obj)
    assert list(out)[:3] == ["apiVersion", "kind", "metadata"]
    assert "binaryData" not in out and "immutable" not in out
    assert json.loads(json.dumps(out)) == out  # plain JSON types only


def test_to_yaml_looks_like_kubectl():
    text = convert.to_yaml(convert.to_dict(convert.from_manifest(load("deployment.yaml"))))
    assert text.startswith("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n")
    assert "      containers:\n      - name: busybox\n" in text
    assert convert.to_yaml({"cpu": "1", "v": "true", "s": "a\nb\n"}) == 'cpu: "1"\nv: "true"\ns: |\n  a\n  b\n'


# ---------------------------------------------------------------- YAML documents

def test_load_manifests_skips_empty_documents_and_expands_lists():
    text = "---\n# only a comment\n---\n" + (fixture_files()[0].parent / "namespace.yaml").read_text() + \
        "---\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n" \
        "- apiVersion: v1\n  kind: Namespace\n  metadata: {name: b}\n"
    names = [d["metadata"]["name"] for d in convert.load_manifests(text)]
    assert names == ["team", "a", "b"]


def test_malformed_yaml_names_the_document():
    text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: [Namespace\n"
    with pytest.raises(ManifestError) as caught:
        convert.load_manifests(text, source="ns.yaml")
    message = str(caught.value)
    assert message.startswith("ns.yaml: document 2: ")
    assert "line 7" in message and "\n" not in message


def test_repeated_key_is_an_error():
    with pytest.raises(ManifestError, match='document 1: key "name" appears twice'):
        convert.load_manifests("metadata:\n  name: a\n  name: b\n")


def test_a_document_that_is_not_a_mapping_is_an_error():
    with pytest.raises(ManifestError, match="document 2: must be a mapping"):
        convert.load_manifests("a: 1\n---\n- just\n- a list\n")


def test_round_trip_does_not_alias_input():
    data = load("deployment.yaml")
    before = copy.deepcopy(data)
    convert.to_dict(convert.from_manifest(data))
    assert data == before


def test_manifest_identity_must_be_strings():
    assert _errors({"apiVersion": ["v1"], "kind": {"Pod": 1}}) == ["apiVersion: must be a string",
                                                                    "kind: must be a string"]
    with pytest.raises(InvalidError, match="a manifest must be an object"):
        convert.from_manifest(["not", "a", "manifest"])
