"""imagePullSecrets on a real API server: a pod that names none gets its service account's at admission,
and a node may read exactly the docker-registry Secrets its own pods name, no other node's."""
import base64
import json

import pytest

from controlplane.api import convert
from controlplane.client import Client
from controlplane.client import errors
from tests.support.control_plane import node_config
from tests.support.polling import eventually


def registry_secret(name: str, user: str) -> object:
    config = {"auths": {"registry.example:5000": {"auth": base64.b64encode(f"{user}:pw".encode()).decode()}}}
    return convert.from_manifest({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "default"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}})


def pod(name: str, node: str, **spec) -> object:
    return convert.from_manifest({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": node, "automountServiceAccountToken": False,
                 "containers": [{"name": "c", "image": "registry.example:5000/app:1"}], **spec}})


async def builder_account(client: Client) -> None:
    """A ServiceAccount with a pull secret, once the server's ServiceAccount watch cache (which admission
    reads, and List is served from) has it."""
    await client.resource("ServiceAccount").create(convert.from_manifest({
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder", "namespace": "default"},
        "imagePullSecrets": [{"name": "from-account"}]}))

    async def cached():
        items = (await client.resource("ServiceAccount").list(namespace="default")).items
        return any(account.metadata.name == "builder" for account in items)
    await eventually(cached, what="the account in the watch cache")


async def readable(node: Client, name: str) -> bool:
    try:
        await node.resource("Secret").get(name, namespace="default")
    except errors.Forbidden:
        return False
    return True


async def test_a_node_reads_only_the_pull_secrets_its_pods_name(apiserver, client):
    for name in ("named", "from-account", "unnamed"):
        await client.resource("Secret").create(registry_secret(name, name))
    await builder_account(client)
    await client.resource("Pod").create(pod("direct", "good", imagePullSecrets=[{"name": "named"}]))
    inherited = await client.resource("Pod").create(pod("inherits", "good", serviceAccountName="builder"))
    assert [s.name for s in inherited.spec.image_pull_secrets] == ["from-account"]
    await client.resource("Pod").create(pod("own", "hostile"))

    async with Client(await node_config(apiserver, "good")) as good, \
            Client(await node_config(apiserver, "hostile")) as hostile:
        async def good_reads_both():
            return await readable(good, "named") and await readable(good, "from-account")
        await eventually(good_reads_both, what="the node of the pods to read their pull secrets")
        for name in ("named", "from-account", "unnamed"):
            assert not await readable(hostile, name), name
        assert not await readable(good, "unnamed")
        with pytest.raises(errors.Forbidden):
            await hostile.resource("Secret").list(namespace="default")


async def test_pods_that_name_their_own_pull_secrets_keep_them(apiserver, client):
    await builder_account(client)
    created = await client.resource("Pod").create(pod("mine", "n", serviceAccountName="builder",
                                                      imagePullSecrets=[{"name": "mine"}]))
    assert [s.name for s in created.spec.image_pull_secrets] == ["mine"]
    again = pod("mine", "n", serviceAccountName="builder")   # the manifest re-applied: admission keeps them
    again.metadata.resource_version = created.metadata.resource_version
    updated = await client.resource("Pod").update(again)
    assert [s.name for s in updated.spec.image_pull_secrets] == ["mine"]
