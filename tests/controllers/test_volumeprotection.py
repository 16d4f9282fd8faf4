"""Volume protection against a real API server: a deleted claim stays while a pod uses it, a deleted
volume while it is bound; both go once free (the finalizers the API server put on them are removed)."""
from controlplane.api.kinds import KINDS
from controlplane.api.wellknown import PROTECTION_FINALIZERS
from controlplane.client.errors import NotFound
from tests.controllers.support import eventually
from tests.support.objects import pod


def claim(name):
    return KINDS["PersistentVolumeClaim"].new(
        metadata={"name": name, "namespace": "default"},
        spec={"access_modes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}})


async def gone(api, name, namespace=""):
    try:
        await api.get(name, namespace=namespace)
    except NotFound:
        return True
    return False


async def test_a_claim_in_use_and_its_bound_volume_stay_until_free(client, manager, nodes):
    claims, volumes, pods = (client.resource(k) for k in ("PersistentVolumeClaim", "PersistentVolume", "Pod"))
    made = await claims.create(claim("data"))
    assert list(made.metadata.finalizers) == [PROTECTION_FINALIZERS["PersistentVolumeClaim"]]
    user = pod("user", volumes=[{"name": "data", "persistent_volume_claim": {"claim_name": "data"}}])
    user.spec.containers[0].volume_mounts.add(name="data", mount_path="/data")
    await pods.create(user)

    async def bound():
        found = await claims.get("data", namespace="default")
        return found.status.phase == "Bound" and found
    bound_claim = await eventually(bound, timeout=20, what="the claim bound once its pod was scheduled")
    volume = await volumes.get(bound_claim.spec.volume_name)
    assert PROTECTION_FINALIZERS["PersistentVolume"] in volume.metadata.finalizers

    await volumes.delete(volume.metadata.name)
    await claims.delete("data", namespace="default")
    still = await claims.get("data", namespace="default")
    assert still.metadata.HasField("deletion_timestamp")
    assert not await gone(volumes, volume.metadata.name)   # bound: kept

    await pods.delete("user", namespace="default", grace_period_seconds=0)
    await eventually(lambda: gone(claims, "data", "default"), timeout=20, what="the claim gone once its pod was")
    await eventually(lambda: gone(volumes, volume.metadata.name), timeout=20,
                     what="the volume gone once released")
