"""Volume protection: claims and volumes in use are not removed until they are free.

Kubernetes' pvc-protection and pv-protection controllers in one. The API
server puts a protection finalizer on every new claim and volume
(admission.StorageObjectInUseProtection); a deleted claim keeps it, and so
stays, while a pod that has not finished names it; a deleted volume while
it is Bound. Once free, the finalizer is removed and the deletion completes.
"""
from google.protobuf.message import Message

from controlplane.api.wellknown import PROTECTION_FINALIZERS
from controlplane.controllers import pods as podutil
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.ownership import remove_finalizer

BY_CLAIM = "claims-used"   # (namespace, claim name) of each claim a pod names


def index_claims(pod: Message) -> list[tuple[str, str]]:
    return [(pod.metadata.namespace, v.persistent_volume_claim.claim_name)
            for v in pod.spec.volumes if v.HasField("persistent_volume_claim")]


def claim_in_use(users: list[Message]) -> bool:
    """Used while a pod naming it has not finished (a pod not yet started counts: it will mount it)."""
    return any(p.status.phase not in podutil.FINISHED_PHASES for p in users)


def volume_in_use(volume: Message) -> bool:
    return volume.status.phase == "Bound"


class VolumeProtectionController(Controller):
    name = "volumeprotection"
    workers = 1

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.claims = ctx.informers.informer("PersistentVolumeClaim")
        self.volumes = ctx.informers.informer("PersistentVolume")
        self.pods = ctx.informers.informer("Pod")
        self.pods.add_index(BY_CLAIM, index_claims)
        self.claim_api = ctx.client.resource("PersistentVolumeClaim")
        self.volume_api = ctx.client.resource("PersistentVolume")
        self.follow(self.claims, key=lambda c: ("PersistentVolumeClaim", c.metadata.namespace, c.metadata.name)
                    if podutil.is_deleting(c) else None)
        self.follow(self.volumes, key=lambda v: ("PersistentVolume", "", v.metadata.name)
                    if podutil.is_deleting(v) else None)
        self.pods.add_handler(on_update=lambda _old, new: self._pod_event(new), on_delete=self._pod_event)

    def _pod_event(self, pod: Message) -> None:
        for namespace, name in index_claims(pod):
            self.queue.add(("PersistentVolumeClaim", namespace, name))

    async def sync(self, key) -> None:
        kind, namespace, name = key
        if kind == "PersistentVolumeClaim":
            obj, api = self.claims.get(name, namespace), self.claim_api
            busy = obj is not None and claim_in_use(self.pods.by_index(BY_CLAIM, (namespace, name)))
        else:
            obj, api = self.volumes.get(name), self.volume_api
            busy = obj is not None and volume_in_use(obj)
        finalizer = PROTECTION_FINALIZERS[kind]
        if obj is None or busy or not podutil.is_deleting(obj):
            return
        await remove_finalizer(api, obj, finalizer)
