"""RBAC on a real API server: bindings grant, their removal takes away, nobody grants what they lack,
and `can-i` answers what the API then does."""
import pytest
import yaml

from controlplane.api import convert
from controlplane.api.kinds import KINDS
from controlplane.api.v1 import cluster_pb2
from controlplane.apiserver import signedtokens
from controlplane.client import Client, ClientConfig, errors
from tests.support.objects import configmap, kubectl_manifest, namespace, pod

# `kubectl create role pod-reader --verb=get,list,watch --resource=pods,pods/log -n team --dry-run=client -o yaml`
# (kubectl asks a server for discovery to write a Role, so its output is kept here as it wrote it).
POD_READER = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  creationTimestamp: null
  name: pod-reader
  namespace: team
rules:
- apiGroups:
  - ""
  resources:
  - pods
  - pods/log
  verbs:
  - get
  - list
  - watch
"""


def as_user(apiserver, name: str, *groups: str) -> Client:
    """A person's client config, as `cox config new-user` mints it."""
    token = signedtokens.user_token(apiserver.credentials.signing_key, name, list(groups))
    return Client(ClientConfig(server=apiserver.address, ca=apiserver.credentials.ca_pem.decode(), token=token))


async def settle(client) -> None:
    await client.resource("ConfigMap").list()    # a consistent read: the caches have seen every write before it


@pytest.fixture
async def team(client):
    await client.resource("Namespace").create(namespace("team"))
    await client.resource("Pod").create(pod("web", namespace="team"))
    await client.resource("ConfigMap").create(configmap("settings", namespace="team"))


async def test_default_roles_and_bindings_exist(client):
    roles = {r.metadata.name for r in (await client.resource("ClusterRole").list()).items}
    assert {"cluster-admin", "admin", "edit", "view", "system:kube-scheduler",
            "system:kube-controller-manager"} <= roles
    binding = await client.resource("ClusterRoleBinding").get("cluster-admin")
    assert [(s.kind, s.name) for s in binding.subjects] == [("Group", "system:masters")]


async def test_kubectl_role_and_binding_grant_exactly_their_rules(apiserver, client, team):
    async with as_user(apiserver, "alice") as alice:
        with pytest.raises(errors.Forbidden, match='User "alice" cannot list resource "pods"'):
            await alice.resource("Pod").list(namespace="team")
        await client.resource("Role").create(convert.from_manifest(yaml.safe_load(POD_READER)))
        await client.resource("RoleBinding").create(kubectl_manifest(
            "rolebinding", "alice-reads", "--role=pod-reader", "--user=alice", "-n", "team"))
        await settle(client)
        assert [p.metadata.name for p in (await alice.resource("Pod").list(namespace="team")).items] == ["web"]
        for refused in (alice.resource("Pod").list(namespace="default"), alice.resource("Pod").list(),
                        alice.resource("ConfigMap").list(namespace="team"),
                        alice.resource("Pod").delete("web", namespace="team")):
            with pytest.raises(errors.Forbidden):
                await refused
        await client.resource("RoleBinding").delete("alice-reads", namespace="team")
        await settle(client)
        with pytest.raises(errors.Forbidden):
            await alice.resource("Pod").list(namespace="team")


async def test_a_group_binding_and_a_clusterrole_in_one_namespace(apiserver, client, team):
    await client.resource("RoleBinding").create(kubectl_manifest(
        "rolebinding", "devs-edit", "--clusterrole=edit", "--group=devs", "-n", "team"))
    await settle(client)
    async with as_user(apiserver, "bob", "devs") as bob, as_user(apiserver, "eve") as eve:
        await bob.resource("ConfigMap").create(configmap("made-by-bob", namespace="team"))
        with pytest.raises(errors.Forbidden):
            await bob.resource("ConfigMap").create(configmap("elsewhere", namespace="default"))
        with pytest.raises(errors.Forbidden):
            await eve.resource("ConfigMap").list(namespace="team")


async def test_nobody_grants_rights_they_do_not_hold(apiserver, client, team):
    await client.resource("RoleBinding").create(kubectl_manifest(
        "rolebinding", "carol-admin", "--clusterrole=admin", "--user=carol", "-n", "team"))
    await settle(client)
    async with as_user(apiserver, "carol") as carol:
        # admin of the namespace: may bind roles there, but only roles whose rights she holds
        await carol.resource("RoleBinding").create(kubectl_manifest(
            "rolebinding", "dave-view", "--clusterrole=view", "--user=dave", "-n", "team"))
        with pytest.raises(errors.Forbidden, match="would grant rights the user does not hold"):
            await carol.resource("RoleBinding").create(kubectl_manifest(
                "rolebinding", "dave-root", "--clusterrole=cluster-admin", "--user=dave", "-n", "team"))
        with pytest.raises(errors.Forbidden, match='cannot create resource "clusterrolebindings"'):
            await carol.resource("ClusterRoleBinding").create(kubectl_manifest(
                "clusterrolebinding", "carol-root", "--clusterrole=cluster-admin", "--user=carol"))
        greedy = convert.from_manifest(yaml.safe_load(POD_READER.replace("pod-reader", "greedy")))
        greedy.rules[0].resources.append("nodes")
        with pytest.raises(errors.Forbidden, match="would grant rights the user does not hold"):
            await carol.resource("Role").create(greedy)
    names = {b.metadata.name for b in (await client.resource("RoleBinding").list(namespace="team")).items}
    assert names == {"carol-admin", "dave-view"}
    assert not [b for b in (await client.resource("ClusterRoleBinding").list()).items
                if b.metadata.name == "carol-root"]


async def test_the_bind_verb_lets_one_bind_a_role_one_does_not_hold(apiserver, client, team):
    binder = KINDS["Role"].new(metadata={"name": "binder", "namespace": "team"}, rules=[
        {"api_groups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"], "verbs": ["create"]},
        {"api_groups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"],
         "resource_names": ["edit"]}])
    await client.resource("Role").create(binder)
    await client.resource("RoleBinding").create(kubectl_manifest(
        "rolebinding", "frank-binds", "--role=binder", "--user=frank", "-n", "team"))
    await settle(client)
    async with as_user(apiserver, "frank") as frank:
        await frank.resource("RoleBinding").create(kubectl_manifest(
            "rolebinding", "grace-edit", "--clusterrole=edit", "--user=grace", "-n", "team"))
        with pytest.raises(errors.Forbidden, match="would grant rights"):
            await frank.resource("RoleBinding").create(kubectl_manifest(
                "rolebinding", "grace-admin", "--clusterrole=admin", "--user=grace", "-n", "team"))


async def test_can_i_agrees_with_what_the_api_does(apiserver, client, team):
    await client.resource("Role").create(convert.from_manifest(yaml.safe_load(POD_READER)))
    await client.resource("RoleBinding").create(kubectl_manifest(
        "rolebinding", "hank-reads", "--role=pod-reader", "--user=hank", "-n", "team"))
    await settle(client)
    async with as_user(apiserver, "hank") as hank:
        calls = {("list", "pods", "team"): hank.resource("Pod").list(namespace="team"),
                 ("get", "pods", "team"): hank.resource("Pod").get("web", namespace="team"),
                 ("list", "pods", "default"): hank.resource("Pod").list(namespace="default"),
                 ("list", "configmaps", "team"): hank.resource("ConfigMap").list(namespace="team"),
                 ("delete", "pods", "team"): hank.resource("Pod").delete("web", namespace="team")}
        for (verb, resource, ns), call in calls.items():
            name = "web" if verb in ("get", "delete") else ""
            answer = await hank.access_review(cluster_pb2.AccessReviewRequest(
                verb=verb, resource=resource, namespace=ns, name=name))
            try:
                await call
                did = True
            except errors.Forbidden:
                did = False
            assert answer.allowed == did, f"can-i {verb} {resource} -n {ns} said {answer.allowed}"
        with pytest.raises(errors.Forbidden, match="may not ask what another user may do"):
            await hank.access_review(cluster_pb2.AccessReviewRequest(verb="get", resource="pods", user="root"))
    asked = await client.access_review(cluster_pb2.AccessReviewRequest(
        verb="get", resource="pods/log", namespace="team", user="hank"))
    assert asked.allowed
    with pytest.raises(errors.Invalid, match='resource: "gizmos"'):
        await client.access_review(cluster_pb2.AccessReviewRequest(verb="get", resource="gizmos"))


async def test_bound_service_account_tokens(apiserver, client, team):
    await client.resource("ServiceAccount").create(
        KINDS["ServiceAccount"].new(metadata={"name": "robot", "namespace": "team"}))
    await client.resource("RoleBinding").create(kubectl_manifest(
        "rolebinding", "robot-view", "--clusterrole=view", "--serviceaccount=team:robot", "-n", "team"))
    issued = await client.create_token(cluster_pb2.TokenRequest(namespace="team", service_account="robot",
                                                                expiration_seconds=600))
    config = ClientConfig(server=apiserver.address, ca=apiserver.credentials.ca_pem.decode(), token=issued.token)
    async with Client(config) as robot:
        assert (await robot.version()).user == "system:serviceaccount:team:robot"
        assert len((await robot.resource("Pod").list(namespace="team")).items) == 1
        with pytest.raises(errors.Forbidden):
            await robot.create_token(cluster_pb2.TokenRequest(namespace="team", service_account="robot"))
        await client.resource("ServiceAccount").delete("robot", namespace="team")
        await settle(client)
        with pytest.raises(errors.Unauthenticated):
            await robot.version()
    with pytest.raises(errors.NotFound):
        await client.create_token(cluster_pb2.TokenRequest(namespace="team", service_account="ghost"))
    with pytest.raises(errors.Invalid, match="expirationSeconds"):
        await client.create_token(cluster_pb2.TokenRequest(namespace="team", service_account="robot",
                                                           expiration_seconds=5))


async def test_forged_and_expired_signed_tokens_are_refused(apiserver):
    key = apiserver.credentials.signing_key
    expired = signedtokens.user_token(key, "admin", ["system:masters"], seconds=-1)
    forged = signedtokens.user_token(b"x" * 32, "admin", ["system:masters"])
    kind, payload, mac = signedtokens.user_token(key, "mallory", []).split(".")
    swapped = ".".join(["cox-sat", payload, mac])
    for token in (expired, forged, swapped):
        config = ClientConfig(server=apiserver.address, ca=apiserver.credentials.ca_pem.decode(), token=token)
        async with Client(config) as c:
            with pytest.raises(errors.Unauthenticated):
                await c.version()


async def test_components_run_as_themselves_with_only_their_rights(apiserver):
    token = apiserver.credentials.component_tokens["system:kube-scheduler"]
    config = ClientConfig(server=apiserver.address, ca=apiserver.credentials.ca_pem.decode(), token=token)
    async with Client(config) as scheduler:
        assert (await scheduler.version()).groups == []
        await scheduler.resource("Node").list()
        with pytest.raises(errors.Forbidden):
            await scheduler.resource("Secret").list()
        with pytest.raises(errors.Forbidden):
            await scheduler.resource("ClusterRoleBinding").create(kubectl_manifest(
                "clusterrolebinding", "mine", "--clusterrole=cluster-admin", "--user=system:kube-scheduler"))
