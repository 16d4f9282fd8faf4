"""kubectl's JSONPath templates and the table options built on them (pure functions, no server)."""
import pytest

from controlplane.cli.printing import custom, jsonpath

LIST = {"kind": "List", "items": [
    {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "x", "tier": "web"}},
     "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Init", "status": "False"}]}},
    {"metadata": {"name": "b"}, "spec": {"replicas": 3, "on": True}},
]}


@pytest.mark.parametrize("template, expected", [
    ("{.items[*].metadata.name}", "a b"),
    ('{range .items[*]}{.metadata.name}{"\\t"}{.spec.replicas}{"\\n"}{end}', "a\t\nb\t3\n"),
    ('{.items[0].status.conditions[?(@.type=="Ready")].status}', "True"),
    ('{.items[0].status.conditions[?(@.status!="True")].type}', "Init"),
    ("{.items[0].metadata.labels.app\\.kubernetes\\.io/name}", "x"),
    ("{.items[0].metadata.labels['tier']}", "web"),
    ("names: {..name}!", "names: a b!"),
    ("{.items[-1:].metadata.name}", "b"),
    ("{.items[1].spec}", '{"replicas":3,"on":true}'),
    ("{.items[1].spec.on}", "true"),
    ("{.items[5].metadata.name}{.nothing.here}", ""),
    ("{.kind}", "List"),
])
def test_templates(template, expected):
    assert jsonpath.render(template, LIST) == expected


@pytest.mark.parametrize("template", ["{.items[", "{range .items[*]}{.x}", "{.a}{end}", "{.items[?(nope)]}"])
def test_bad_templates_are_named(template):
    with pytest.raises(jsonpath.JSONPathError):
        jsonpath.parse(template)


def test_custom_columns_label_columns_and_sorting():
    columns = custom.parse_columns("NAME:.metadata.name,REPLICAS:spec.replicas")
    header, rows = custom.custom_rows(columns, LIST["items"])
    assert (header, rows) == (["NAME", "REPLICAS"], [["a", "<none>"], ["b", "3"]])
    header, rows = custom.label_columns(["NAME"], [["a"], ["b"]], LIST["items"],
                                        keys=["app.kubernetes.io/name"], show_labels=True)
    assert header == ["NAME", "NAME", "LABELS"]
    assert rows == [["a", "x", "app.kubernetes.io/name=x,tier=web"], ["b", "", "<none>"]]
    assert custom.sort_order(".spec.replicas", LIST["items"]) == [0, 1]  # missing first
    assert custom.sort_order("{.metadata.name}", list(reversed(LIST["items"]))) == [1, 0]
    with pytest.raises(jsonpath.JSONPathError, match="HEADER:JSONPATH"):
        custom.parse_columns("NAME")
