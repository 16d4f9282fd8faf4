"""The volume controller: binds claims to volumes and runs the built-in local-path provisioner.

Kubernetes' PV controller and k3s's local-path provisioner in one loop. Keys
are ("claim", namespace, name) and ("volume", name); each sync asks
volumeplan what the object needs (the rules and why are there) and makes
one step of it. Binding writes, in Kubernetes' order, the volume's
claimRef, the volume's phase, the claim's volumeName and the claim's phase,
so a sync cut short anywhere is finished by the next. At its start the
controller makes the `local-path` StorageClass if it is missing (as k3s
applies its local-storage manifest at every start).
"""
import logging

from google.protobuf.message import Message

from controlplane.client import errors
from controlplane.client.events import NORMAL
from controlplane.controllers import volumeplan
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.ownership import clone

log = logging.getLogger(__name__)

BIND_COMPLETED = "pv.kubernetes.io/bind-completed"


class PersistentVolumeController(Controller):
    name = "persistentvolume"
    workers = 4   # a Parallel StatefulSet's claims arrive together; each bind is four writes

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        informers = ctx.informers
        self.claims = informers.informer("PersistentVolumeClaim")
        self.volumes = informers.informer("PersistentVolume")
        self.classes = informers.informer("StorageClass")
        self.nodes = informers.informer("Node")
        self.claim_api = ctx.client.resource("PersistentVolumeClaim")
        self.volume_api = ctx.client.resource("PersistentVolume")
        self.class_api = ctx.client.resource("StorageClass")
        self.claims.add_handler(on_add=self._claim_event, on_update=lambda _o, new: self._claim_event(new),
                                on_delete=self._claim_deleted)
        self.volumes.add_handler(on_add=self._volume_event, on_update=lambda _o, new: self._volume_event(new),
                                 on_delete=self._volume_event)
        self.classes.add_handler(on_add=self._class_event, on_update=lambda _o, new: self._class_event(new))

    # -- events to keys

    def _claim_event(self, claim: Message) -> None:
        self.queue.add(("claim", claim.metadata.namespace, claim.metadata.name))

    def _claim_deleted(self, claim: Message) -> None:
        if claim.spec.volume_name:
            self.queue.add(("volume", claim.spec.volume_name))

    def _volume_event(self, volume: Message) -> None:
        self.queue.add(("volume", volume.metadata.name))
        ref = volume.spec.claim_ref
        if ref.name:
            self.queue.add(("claim", ref.namespace, ref.name))

    def _class_event(self, _storage_class: Message) -> None:
        for claim in self.claims.list():
            if claim.status.phase != "Bound":
                self._claim_event(claim)

    # -- syncing

    async def prepare(self) -> None:
        if self.classes.get(volumeplan.LOCAL_PATH_CLASS) is None:
            try:
                await self.class_api.create(volumeplan.local_path_class())
            except errors.AlreadyExists:
                pass

    async def sync(self, key) -> None:
        if key[0] == "claim":
            claim = self.claims.get(key[2], key[1])
            if claim is not None:
                await self._sync_claim(claim)
        else:
            volume = self.volumes.get(key[1])
            if volume is not None:
                await self._sync_volume(volume)

    async def _sync_claim(self, claim: Message) -> None:
        step = volumeplan.claim_step(claim, self.volumes.list(),
                                     {c.metadata.name: c for c in self.classes.list()},
                                     {n.metadata.name: n for n in self.nodes.list()})
        if step.action == "default-class":
            new = clone(claim)
            new.spec.storage_class_name = step.class_name
            await self.claim_api.update(new)
        elif step.action == "bind":
            await self._bind(claim, step.volume)
        elif step.action == "provision":
            try:
                await self.volume_api.create(step.volume)
            except errors.AlreadyExists:
                return
            self.recorder.event(claim, NORMAL, "ProvisioningSucceeded",
                                f"Successfully provisioned volume {step.volume.metadata.name}")
        elif step.action == "lost" and claim.status.phase != "Lost":
            new = clone(claim)
            new.status.phase = "Lost"
            await self.claim_api.update_status(new)
        elif step.action == "wait":
            log.debug("claim %s/%s: %s", claim.metadata.namespace, claim.metadata.name, step.reason)

    async def _bind(self, claim: Message, volume: Message) -> None:
        if volume.spec.claim_ref.uid != claim.metadata.uid:
            new = clone(volume)
            ref = new.spec.claim_ref
            ref.kind, ref.api_version = "PersistentVolumeClaim", "v1"
            ref.namespace, ref.name, ref.uid = claim.metadata.namespace, claim.metadata.name, claim.metadata.uid
            volume = await self.volume_api.update(new)
        if volume.status.phase != "Bound":
            new = clone(volume)
            new.status.phase = "Bound"
            volume = await self.volume_api.update_status(new)
        if claim.spec.volume_name != volume.metadata.name:
            new = clone(claim)
            new.spec.volume_name = volume.metadata.name
            new.metadata.annotations[BIND_COMPLETED] = "yes"
            claim = await self.claim_api.update(new)
        if claim.status.phase != "Bound":
            new = clone(claim)
            new.status.phase = "Bound"
            del new.status.access_modes[:]
            new.status.access_modes.extend(volume.spec.access_modes)
            new.status.capacity.clear()
            new.status.capacity.update(volume.spec.capacity)
            await self.claim_api.update_status(new)
            self.recorder.event(claim, NORMAL, "Bound", f"bound to volume {volume.metadata.name}")

    async def _sync_volume(self, volume: Message) -> None:
        ref = volume.spec.claim_ref
        claim = self.claims.get(ref.name, ref.namespace) if ref.name else None
        if ref.uid and (claim is None or claim.metadata.uid != ref.uid):
            # The cache may be behind: ask the server before releasing someone's data.
            try:
                claim = await self.claim_api.get(ref.name, namespace=ref.namespace)
            except errors.NotFound:
                claim = None
        phase, message = volumeplan.volume_phase(volume, claim)
        if (phase, message) != (volume.status.phase, volume.status.message):
            new = clone(volume)
            new.status.phase, new.status.message = phase, message
            await self.volume_api.update_status(new)
