"""Label and field selectors: the grammar kubectl uses, Kubernetes' matching rules, named errors."""
import pytest

from controlplane.api import kinds, selectors
from controlplane.api.selectors import SelectorError
from controlplane.api.v1 import meta_pb2

LABELS = {"app": "web", "tier": "frontend", "env": "prod", "example.com/team": "a"}


@pytest.mark.parametrize("text, canonical, matches", [
    ("", "", True),
    ("app=web", "app=web", True),
    ("app==web", "app=web", True),
    ("app=db", "app=db", False),
    ("app!=db", "app!=db", True),
    ("app!=web", "app!=web", False),
    ("missing!=x", "missing!=x", True),           # != also matches objects without the label
    ("env in (prod,staging)", "env in (prod,staging)", True),
    ("env in (staging)", "env in (staging)", False),
    ("missing in (x)", "missing in (x)", False),
    ("env notin (prod)", "env notin (prod)", False),
    ("missing notin (x)", "missing notin (x)", True),
    ("app", "app", True),
    ("missing", "missing", False),
    ("!missing", "!missing", True),
    ("!app", "!app", False),
    ("example.com/team=a", "example.com/team=a", True),
    ("missing=", "missing=", False),
    (" app = web , env in ( prod , x ) , !canary ", "app=web,!canary,env in (prod,x)", True),
    ("tier=frontend,app=db", "app=db,tier=frontend", False),
])
def test_label_selectors(text, canonical, matches):
    selector = selectors.parse_label_selector(text)
    assert str(selector) == canonical
    assert selector.matches(LABELS) is matches
    assert selectors.parse_label_selector(str(selector)) == selector
    assert selector.empty is (text.strip() == "")


@pytest.mark.parametrize("text, problem", [
    ("=web", "expected a label key, found '='"),
    ("app in (", "expected a value in \"app in (...)\", found 'the end'"),
    ("app in ()", "found ')'"),
    ("app in web", 'expected "(" after "app in"'),
    ("app in (a b)", 'expected "," or ")"'),
    ("app web", "unexpected 'web' after 'app'"),
    ("app=web=x", "unexpected '=' after 'app=web'"),
    ("!app=web", "unexpected '=' after '!app'"),
    ("app,", "a requirement must follow ','"),
    ("Bad Key", "unexpected 'Key' after 'Bad'"),
    ("-app=x", "key '-app'"),
    ("app=-x", "value '-x'"),
    ("a/b/c=x", "key 'a/b/c'"),
    ("app=" + "x" * 64, "must be no more than 63 characters"),
])
def test_label_selector_errors_quote_the_selector_and_say_why(text, problem):
    with pytest.raises(SelectorError) as caught:
        selectors.parse_label_selector(text)
    assert str(caught.value).startswith(f'label selector "{text}": ')
    assert problem in str(caught.value)


def test_matches_protobuf_label_maps():
    selector = selectors.parse_label_selector("app=web,!canary")
    obj = kinds.by_name("Pod").new(metadata={"name": "p", "labels": {"app": "web"}})
    assert selector.matches(obj.metadata.labels)
    obj.metadata.labels["canary"] = "yes"
    assert not selector.matches(obj.metadata.labels)


def test_from_label_selector_message():
    message = meta_pb2.LabelSelector(match_labels={"app": "web"}, match_expressions=[
        meta_pb2.LabelSelectorRequirement(key="env", operator="In", values=["prod", "dev"]),
        meta_pb2.LabelSelectorRequirement(key="tier", operator="NotIn", values=["db"]),
        meta_pb2.LabelSelectorRequirement(key="team", operator="Exists"),
        meta_pb2.LabelSelectorRequirement(key="canary", operator="DoesNotExist"),
    ])
    selector = selectors.from_label_selector(message)
    assert str(selector) == "app=web,!canary,env in (dev,prod),team,tier notin (db)"
    assert selector.matches({"app": "web", "env": "dev", "team": "x"})
    assert not selector.matches({"app": "web", "env": "dev"})
    assert not selector.matches({"app": "web", "env": "dev", "team": "x", "canary": "1"})
    assert selectors.parse_label_selector(str(selector)) == selector
    assert selectors.from_label_selector(meta_pb2.LabelSelector()).matches({})


@pytest.mark.parametrize("requirement, problem", [
    (meta_pb2.LabelSelectorRequirement(key="a", operator="Equals", values=["x"]), 'operator "Equals"'),
    (meta_pb2.LabelSelectorRequirement(key="a", operator="In"), "values must be given for In and NotIn only"),
    (meta_pb2.LabelSelectorRequirement(key="a", operator="Exists", values=["x"]), "values must be given"),
])
def test_from_label_selector_rejects_bad_expressions(requirement, problem):
    with pytest.raises(SelectorError, match=problem):
        selectors.from_label_selector(meta_pb2.LabelSelector(match_expressions=[requirement]))


# ---------------------------------------------------------------- field selectors

def _pod(**status):
    return kinds.by_name("Pod").new(metadata={"name": "web-1", "namespace": "default"},
                                    spec={"node_name": "node-1", "restart_policy": "Always"}, status=status)


@pytest.mark.parametrize("text, matches", [
    ("", True),
    ("metadata.name=web-1", True),
    ("metadata.name==web-1", True),
    ("metadata.name!=web-1", False),
    ("metadata.namespace=default,spec.nodeName=node-1", True),
    ("spec.nodeName=", False),                    # the kubelet's "unscheduled" query, inverted
    ("spec.nodeName!=", True),
    ("status.phase=Running", True),
    ("status.phase!=Succeeded,status.phase!=Failed", True),
    ("spec.hostNetwork=false", True),
    ("spec.restartPolicy=Never", False),
])
def test_pod_field_selectors(text, matches):
    selector = selectors.parse_field_selector(text, "Pod")
    assert selector.matches(_pod(phase="Running")) is matches


def test_event_and_node_fields():
    event = kinds.by_name("Event").new(metadata={"name": "e", "namespace": "default"}, reason="Scheduled",
                                       type="Normal", involved_object={"kind": "Pod", "name": "web-1",
                                                                       "namespace": "default", "uid": "u1"})
    query = "involvedObject.kind=Pod,involvedObject.name=web-1,involvedObject.namespace=default," \
            "involvedObject.uid=u1,reason=Scheduled,type=Normal"
    assert selectors.parse_field_selector(query, "Event").matches(event)
    assert not selectors.parse_field_selector("type=Warning", "Event").matches(event)
    node = kinds.by_name("Node").new(metadata={"name": "n"}, spec={"unschedulable": True})
    assert selectors.parse_field_selector("spec.unschedulable=true", "Node").matches(node)
    assert not selectors.parse_field_selector("spec.unschedulable=false", "Node").matches(node)


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_every_kind_selects_by_name_and_namespace(kind):
    obj = kinds.by_name(kind).new(metadata={"name": "x", "namespace": "ns"})
    assert selectors.parse_field_selector("metadata.name=x,metadata.namespace=ns", kind).matches(obj)


def test_unsupported_field_path_is_named():
    with pytest.raises(SelectorError) as caught:
        selectors.parse_field_selector("spec.nodeName=n", "Service")
    assert 'field "spec.nodeName" is not supported for Service' in str(caught.value)
    assert "metadata.name" in str(caught.value)


@pytest.mark.parametrize("text, problem", [
    ("metadata.name", "is not path=value"),
    ("=x", "is not path=value"),
    ("metadata.name=a=b", '"=" in a value must be escaped'),
    ("metadata.name=a\\x", 'invalid escape "\\x"'),
])
def test_field_selector_errors(text, problem):
    with pytest.raises(SelectorError, match=problem.replace("\\", "\\\\")):
        selectors.parse_field_selector(text, "Pod")


def test_field_selector_escapes():
    obj = kinds.by_name("ConfigMap").new(metadata={"name": "odd", "namespace": "a,b=c\\d"})
    selector = selectors.parse_field_selector("metadata.namespace=a\\,b\\=c\\\\d", "ConfigMap")
    assert selector.matches(obj)
    assert str(selector) == "metadata.namespace=a\\,b\\=c\\\\d"
