"""The StatefulSet controller: pods with stable names and storage, made and replaced in order.

Each sync claims the set's pods, records the template as a ControllerRevision
(NAME-<hash>) if it is new, asks statefulplan what to do next (create
claims, then pods; delete pods; delete claims of scaled-away ordinals), does
it, writes status, and deletes revisions beyond revisionHistoryLimit. The rules, and why, are in statefulplan.py. Claims
are made here but bound by the volume controller (persistentvolume.py);
claim events requeue the set whose claim changed, pod events the owner
(PodOwnerController).
"""
import asyncio
import time

from google.protobuf.message import Message

from controlplane.client import errors
from controlplane.client.events import NORMAL
from controlplane.controllers import pods as podutil
from controlplane.controllers import statefulplan
from controlplane.controllers.base import Context
from controlplane.controllers.ownership import clone
from controlplane.controllers.podowner import PodOwnerController


class StatefulSetController(PodOwnerController):
    name = "statefulset"
    owner_kind = "StatefulSet"
    workers = 2
    min_sync_interval = 0.1

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.claims = ctx.informers.informer("PersistentVolumeClaim")
        self.claims.add_index(podutil.BY_NAMESPACE, podutil.index_by_namespace)
        self.claim_api = ctx.client.resource("PersistentVolumeClaim")
        self.claims.add_handler(on_update=lambda _old, new: self._claim_event(new), on_delete=self._claim_event)
        self.revisions = ctx.informers.informer("ControllerRevision")
        self.revisions.add_index(podutil.BY_CONTROLLER, podutil.index_by_controller)
        self.revision_api = ctx.client.resource("ControllerRevision")

    def _claim_event(self, claim: Message) -> None:
        """A claim deleted (or going) may be what a missing pod waits for: requeue its namespace's sets."""
        for sts in self.owners.by_index(podutil.BY_NAMESPACE, claim.metadata.namespace):
            if any(claim.metadata.name.startswith(f"{t.metadata.name}-{sts.metadata.name}-")
                   for t in sts.spec.volume_claim_templates):
                self.enqueue(sts)

    async def sync(self, key) -> None:
        sts = self.owner_of_key(key)
        if sts is None:
            return
        pods = await self.claim_pods(sts)
        update_revision = statefulplan.revision(sts)
        records = {r.metadata.name: r for r in self.revisions.by_index(podutil.BY_CONTROLLER, sts.metadata.uid)}
        if update_revision not in records and not podutil.is_deleting(sts):
            await self._record(sts, update_revision, records)
        if self.expectations.satisfied(key) and not podutil.is_deleting(sts):
            claims = {c.metadata.name: c for c in self.claims.by_index(podutil.BY_NAMESPACE, sts.metadata.namespace)}
            current = records.get(sts.status.current_revision)
            plan = statefulplan.plan(sts, pods, claims, update_revision,
                                     (current.metadata.name, current.data.spec.template) if current else None)
            # claims first (a pod made before its claim would wait for it), all at once (Parallel makes many)
            await _all(self._create_claim(sts, c) for c in plan.create_claims)
            if plan.create:
                await self.create_pods(sts, len(plan.create), make=lambda i: plan.create[i])
            if plan.delete:
                await self.delete_pods(sts, plan.delete)
            await _all(self._delete_claim(sts, c) for c in plan.delete_claims)
        status = statefulplan.compute_status(sts, pods, update_revision, time.time())
        if status != sts.status:
            new = clone(sts)
            new.status.CopyFrom(status)
            await self.api.update_status(new)
        old = statefulplan.revisions_to_delete(sts, list(records.values()), pods,
                                               {status.current_revision, status.update_revision})
        await _all(self._delete_record(r) for r in old)
        waits = [w for p in pods if podutil.is_active(p)
                 if (w := podutil.seconds_until_available(p, sts.spec.min_ready_seconds)) is not None]
        if waits:
            self.queue.add_after(key, min(waits) + 0.05)

    async def _record(self, sts: Message, name: str, records: dict[str, Message]) -> None:
        number = max((r.revision for r in records.values()), default=0) + 1
        try:
            await self.revision_api.create(statefulplan.revision_record(sts, name, number))
        except errors.AlreadyExists:
            pass   # made by an earlier sync the cache has not shown yet

    async def _delete_record(self, record: Message) -> None:
        try:
            await self.revision_api.delete(record.metadata.name, namespace=record.metadata.namespace,
                                           uid=record.metadata.uid)
        except errors.NotFound:
            pass

    async def _create_claim(self, sts: Message, claim: Message) -> None:
        try:
            await self.claim_api.create(claim)
        except errors.AlreadyExists:
            return   # made by an earlier sync the cache has not shown yet
        self.recorder.event(sts, NORMAL, "SuccessfulCreate",
                            f"create Claim {claim.metadata.name} in StatefulSet {sts.metadata.name} success")

    async def _delete_claim(self, sts: Message, claim: Message) -> None:
        try:
            await self.claim_api.delete(claim.metadata.name, namespace=claim.metadata.namespace,
                                        uid=claim.metadata.uid)
        except errors.NotFound:
            return
        self.recorder.event(sts, NORMAL, "SuccessfulDelete", f"delete Claim {claim.metadata.name} success")


async def _all(calls) -> None:
    """Await every call; raise the first failure once all have finished."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    if failures := [r for r in results if isinstance(r, BaseException)]:
        raise failures[0]
