"""An update that asks for what is already stored writes nothing.

Clients send objects without the defaults the server fills in (kubectl's
manifests, `cox apply`), and kinds like Deployment are stored without a
status until a controller writes one: neither may count as a change, or
every re-apply would bump resourceVersion and generation.
"""
from controlplane.api import convert


async def test_an_update_without_defaults_is_no_change(client):
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"selector": {"matchLabels": {"app": "web"}},
                         "template": {"metadata": {"labels": {"app": "web"}},
                                      "spec": {"containers": [{"name": "web", "image": "busybox"}]}}}}
    deployments = client.resource("Deployment")
    created = await deployments.create(convert.from_manifest(manifest))
    assert not created.HasField("status")
    request = convert.from_manifest(manifest)
    request.metadata.resource_version = created.metadata.resource_version
    stored = await deployments.update(request)
    assert stored.metadata.resource_version == created.metadata.resource_version
    assert stored.metadata.generation == 1 and not stored.HasField("status")

    request.spec.replicas = 2
    changed = await deployments.update(request)
    assert changed.metadata.generation == 2
