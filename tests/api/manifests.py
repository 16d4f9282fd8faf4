"""Test helpers: the kubectl-made manifests in testdata/, and objects prepared
the way the API server prepares them before validating (namespace, uid, defaults)."""
import copy
import pathlib

from controlplane.api import convert, defaults, kinds

TESTDATA = pathlib.Path(__file__).parent / "testdata"


def fixture_files() -> list[pathlib.Path]:
    return sorted(TESTDATA.iterdir())


def load(name: str) -> dict:
    """The one object in testdata/`name`."""
    (data,) = convert.load_manifests((TESTDATA / name).read_text(), source=name)
    return data


def admitted(data: dict):
    """The message for `data` as the API server would validate it on create."""
    obj = convert.from_manifest(copy.deepcopy(data))
    if kinds.by_name(obj.kind).namespaced and not obj.metadata.namespace:
        obj.metadata.namespace = "default"
    obj.metadata.uid = "6d1f6f38-0d4c-4bb5-a1b4-5b8e3f1e8a11"
    defaults.apply_defaults(obj)
    return obj


def without_nulls(value):
    """What a manifest means: null is unset, so drop it (kubectl writes creationTimestamp: null)."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value
