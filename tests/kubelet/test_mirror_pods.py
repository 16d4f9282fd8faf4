"""Static pods show up in the API server as mirror pods, with their status; deleting a mirror does not stop them."""
from controlplane.api.wellknown import MIRROR_POD_ANNOTATION
from tests.kubelet.helpers import fetched, write_pod
from tests.support.polling import eventually

IMAGE = "coxswain-test/busybox:1"


async def mirror(client, check=lambda p: True):
    async def probe():
        found = await fetched(client, "Pod", "static-web-node1", "default")
        return found if found is not None and check(found) else None
    return probe


async def test_static_pod_is_mirrored_with_its_status(joined, client, manifests, runtime):
    write_pod(manifests, "static-web", {"containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3600"]}]})
    found = await eventually(await mirror(client, lambda p: p.status.phase == "Running"),
                             what="a Running mirror pod")
    assert MIRROR_POD_ANNOTATION in found.metadata.annotations
    assert found.spec.node_name == "node1"
    container_id = found.status.container_statuses[0].container_id

    await client.resource("Pod").delete("static-web-node1", namespace="default")
    again = await eventually(await mirror(client, lambda p: p.metadata.uid != found.metadata.uid and
                                          p.status.phase == "Running"),
                             what="the mirror pod back after deleting it")
    assert again.status.container_statuses[0].container_id == container_id, "the static pod kept running"

    (manifests / "static-web.yaml").unlink()

    async def mirror_gone():
        return await fetched(client, "Pod", "static-web-node1", "default") is None
    await eventually(mirror_gone, what="the mirror pod removed with its manifest")
