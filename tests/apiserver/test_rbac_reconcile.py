"""The default ClusterRoles reconciled at server start (authz/reconcile.py): a role stored by an older
version gains the rights added since, keeps what an administrator added, and is left alone when annotated
autoupdate "false". Pure cases first, then a real API server restarted on its own SQLite store."""
import pytest

from controlplane.api.kinds import KINDS
from controlplane.api.v1 import rbac_pb2
from controlplane.apiserver.authz import policy
from controlplane.apiserver.authz.reconcile import reconciled
from controlplane.apiserver.authz.rbac import rules_cover
from controlplane.client import errors
from tests.apiserver.test_rbac import as_user
from tests.support.control_plane import admin_client, running_apiserver
from tests.support.objects import pod

PROXYRULES = rbac_pb2.PolicyRule(api_groups=[""], resources=["pods/proxyrules"], verbs=["get"])
EXTRA = {"api_groups": ["example.com"], "resources": ["widgets"], "verbs": ["get"]}


def default(name: str):
    return next(o for o in policy.objects() if o.DESCRIPTOR.name == "ClusterRole" and o.metadata.name == name)


def older(name: str, *, annotations: dict | None = None, extra=()):
    """The default role as a version before pods/proxyrules stored it: no such resource, no annotation."""
    role = default(name)
    for rule in role.rules:
        kept = [r for r in rule.resources if r != "pods/proxyrules"]
        del rule.resources[:]
        rule.resources.extend(kept)
    role.metadata.annotations.clear()
    role.metadata.annotations.update(annotations or {})
    role.rules.extend(rbac_pb2.PolicyRule(**e) for e in extra)
    return role


def test_an_older_role_gains_the_missing_rights_as_one_rule_and_keeps_its_own():
    stored = older("view", extra=[EXTRA])
    assert not rules_cover(stored.rules, PROXYRULES)
    updated = reconciled(stored, default("view"))
    assert list(updated.rules[:len(stored.rules)]) == list(stored.rules)    # nothing removed or changed
    assert [(list(r.api_groups), list(r.resources), list(r.verbs)) for r in updated.rules[len(stored.rules):]] == \
        [([""], ["pods/proxyrules"], ["get", "list", "watch"])]
    assert updated.metadata.annotations[policy.AUTOUPDATE] == "true"
    assert all(rules_cover(updated.rules, rule) for rule in default("view").rules)
    assert reconciled(updated, default("view")) is None                    # once is enough


def test_autoupdate_false_is_left_alone_and_a_current_role_needs_nothing():
    assert reconciled(older("view", annotations={policy.AUTOUPDATE: "false"}), default("view")) is None
    assert reconciled(default("edit"), default("edit")) is None


def test_a_missing_non_resource_url_is_added_alone():
    expected = default(policy.MONITORING)
    stored = KINDS["ClusterRole"].new(metadata={"name": policy.MONITORING, "annotations": {policy.AUTOUPDATE: "true"},
                                                "labels": dict(expected.metadata.labels)},
                                      rules=[{"verbs": ["get"], "non_resource_ur_ls": ["/metrics", "/healthz"]}])
    added = reconciled(stored, expected).rules[1:]
    assert [(list(r.verbs), list(r.non_resource_ur_ls)) for r in added] == [(["get"], ["/livez", "/readyz"])]


async def test_a_stored_older_view_gains_pods_proxyrules_at_the_next_start_unless_opted_out(tmp_path):
    data = tmp_path / "data"
    async with running_apiserver(data) as apiserver:
        async with admin_client(apiserver) as admin:
            roles = admin.resource("ClusterRole")
            for name, annotations in (("view", {}), ("edit", {policy.AUTOUPDATE: "false"})):
                live = await roles.get(name)
                stale = older(name, annotations=annotations, extra=[EXTRA])
                stale.metadata.resource_version = live.metadata.resource_version
                await roles.update(stale)
            await admin.resource("Pod").create(pod("web"))
            for user, role in (("viewer", "view"), ("editor", "edit")):
                await admin.resource("RoleBinding").create(KINDS["RoleBinding"].new(
                    metadata={"name": user, "namespace": "default"},
                    role_ref={"api_group": policy.RBAC_GROUP, "kind": "ClusterRole", "name": role},
                    subjects=[{"kind": "User", "name": user, "api_group": policy.RBAC_GROUP}]))
            async with as_user(apiserver, "viewer") as viewer:
                with pytest.raises(errors.Forbidden, match="proxyrules"):   # the older view has no such right
                    await viewer.resource("Pod").proxy_rules("web")

    async with running_apiserver(data) as apiserver:
        async with admin_client(apiserver) as admin:
            roles = admin.resource("ClusterRole")
            view, edit = await roles.get("view"), await roles.get("edit")
        assert rules_cover(view.rules, PROXYRULES) and rules_cover(view.rules, rbac_pb2.PolicyRule(**EXTRA))
        assert view.metadata.annotations[policy.AUTOUPDATE] == "true"
        assert list(edit.rules) == list(older("edit", extra=[EXTRA]).rules)      # opted out: as it was
        assert dict(edit.metadata.annotations) == {policy.AUTOUPDATE: "false"}
        async with as_user(apiserver, "viewer") as viewer:
            rules = await viewer.resource("Pod").proxy_rules("web")
        assert (rules.name, list(rules.nodes)) == ("web", [])                  # no nodes: nobody to ask
        async with as_user(apiserver, "editor") as editor:
            with pytest.raises(errors.Forbidden, match="proxyrules"):       # opted out: still without it
                await editor.resource("Pod").proxy_rules("web")
