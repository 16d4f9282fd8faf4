"""Service account tokens authenticate, with the rights RBAC binds to the account; pods get them mounted."""
import pytest

from controlplane.api import serviceaccounts as sa
from controlplane.api.kinds import KINDS
from controlplane.api.wellknown import MIRROR_POD_ANNOTATION
from controlplane.client import Client, ClientConfig, errors
from tests.support.objects import configmap, kubectl_manifest, namespace, pod


async def issue_token(client, ns: str, account: str) -> str:
    """What the ServiceAccount controller does: an account and its token Secret."""
    created = await client.resource("ServiceAccount").create(
        KINDS["ServiceAccount"].new(metadata={"name": account, "namespace": ns}))
    name = sa.token_secret_name(account)
    token = sa.make_token(ns, name)
    await client.resource("Secret").create(KINDS["Secret"].new(
        metadata={"name": name, "namespace": ns, "annotations": {
            sa.NAME_ANNOTATION: account, sa.UID_ANNOTATION: created.metadata.uid}},
        type=sa.TOKEN_TYPE, data={"token": token.encode(), "namespace": ns.encode()}))
    return token


def as_token(apiserver, token: str) -> Client:
    return Client(ClientConfig(server=apiserver.address, ca=apiserver.credentials.ca_pem.decode(), token=token))


async def test_a_token_has_no_rights_until_bound(apiserver, client):
    await client.resource("Namespace").create(namespace("team"))
    await client.resource("ConfigMap").create(configmap("c", namespace="team"))
    token = await issue_token(client, "team", "builder")
    async with as_token(apiserver, token) as robot:
        assert (await robot.version()).user == "system:serviceaccount:team:builder"
        with pytest.raises(errors.Forbidden, match="no RBAC rule allows it"):
            await robot.resource("ConfigMap").list(namespace="team")
        binding = kubectl_manifest("rolebinding", "builder-view", "--clusterrole=view",
                                   "--serviceaccount=team:builder", "-n", "team")
        await client.resource("RoleBinding").create(binding)
        await client.resource("ConfigMap").list()    # the cache has seen the binding once this returns
        names = [c.metadata.name for c in (await robot.resource("ConfigMap").list(namespace="team")).items]
        assert names == ["c"]
        for forbidden in (robot.resource("ConfigMap").list(namespace="default"),
                          robot.resource("ConfigMap").list(),      # all namespaces
                          robot.resource("Secret").list(namespace="team"),
                          robot.resource("ConfigMap").create(configmap("d", namespace="team"))):
            with pytest.raises(errors.Forbidden):
                await forbidden
        await client.resource("RoleBinding").delete("builder-view", namespace="team")
        await client.resource("ConfigMap").list()
        with pytest.raises(errors.Forbidden):
            await robot.resource("ConfigMap").list(namespace="team")


async def test_deleting_the_secret_revokes_the_token(apiserver, client):
    token = await issue_token(client, "default", "builder")
    await client.resource("RoleBinding").create(kubectl_manifest(
        "rolebinding", "builder-view", "--clusterrole=view", "--serviceaccount=default:builder"))
    async with as_token(apiserver, token) as robot:
        await client.resource("ConfigMap").list()
        await robot.resource("ConfigMap").list(namespace="default")
        await client.resource("Secret").delete(sa.token_secret_name("builder"))
        await client.resource("ConfigMap").list()  # the cache has seen the delete once this returns
        with pytest.raises(errors.Unauthenticated):
            await robot.resource("ConfigMap").list(namespace="default")


async def test_a_forged_token_naming_a_real_secret_fails(apiserver, client):
    await issue_token(client, "default", "builder")
    forged = sa.make_token("default", sa.token_secret_name("builder"))
    async with as_token(apiserver, forged) as robot:
        with pytest.raises(errors.Unauthenticated):
            await robot.resource("ConfigMap").list(namespace="default")


async def test_pods_get_the_default_account_and_its_token_mounted(client):
    created = await client.resource("Pod").create(pod("web"))
    assert created.spec.service_account_name == "default"
    volume = next(v for v in created.spec.volumes if v.secret.secret_name == "default-token")
    mount = created.spec.containers[0].volume_mounts[0]
    assert (mount.name, mount.mount_path, mount.read_only) == (volume.name, sa.MOUNT_PATH, True)


async def test_automount_off_and_mirror_pods_get_no_token(client):
    off = pod("off", automount_service_account_token=False)
    assert not (await client.resource("Pod").create(off)).spec.volumes
    await client.resource("ServiceAccount").create(KINDS["ServiceAccount"].new(
        metadata={"name": "quiet"}, automount_service_account_token=False))
    await client.resource("ConfigMap").list()  # let the cache see the account
    quiet = pod("quiet", service_account_name="quiet")
    assert not (await client.resource("Pod").create(quiet)).spec.volumes
    mirror = pod("mirror")
    mirror.metadata.annotations[MIRROR_POD_ANNOTATION] = "x"
    created = await client.resource("Pod").create(mirror)
    assert not created.spec.volumes and not created.spec.service_account_name


async def test_updating_with_the_original_manifest_keeps_the_token_mount(client):
    created = await client.resource("Pod").create(pod("web"))
    original = pod("web")
    original.metadata.labels["tier"] = "front"
    updated = await client.resource("Pod").update(original)
    assert updated.metadata.labels["tier"] == "front"
    assert updated.spec == created.spec
    # What `cox apply` sends: the live volumes kept, the manifest's containers (no mounts).
    overlaid = client.resource("Pod").kind.message()
    overlaid.CopyFrom(updated)
    del overlaid.spec.containers[0].volume_mounts[:]
    assert (await client.resource("Pod").update(overlaid)).spec == created.spec
