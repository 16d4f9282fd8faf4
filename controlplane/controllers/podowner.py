"""The part of the ReplicaSet, Job and DaemonSet controllers that is the same: owning pods.

Both watch their own kind and pods, map a pod event to the owner to sync (its
controller, or for an orphan every owner whose selector matches), keep
expectations of the pods they create and delete, and create pods in
slow-start batches (1, 2, 4, ...) so that a template the server refuses costs
one failed request, not hundreds.
"""
import asyncio
import logging
from typing import Callable

from google.protobuf.message import Message

from controlplane.client import errors
from controlplane.client.events import NORMAL, WARNING
from controlplane.client.informer import key_of
from controlplane.controllers import pods as podutil
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.expectations import Expectations
from controlplane.controllers.ownership import claim, selector_of

log = logging.getLogger(__name__)

BURST = 500  # at most this many pods created or deleted in one sync


class PodOwnerController(Controller):
    owner_kind = ""   # "ReplicaSet", "Job"

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.owners = ctx.informers.informer(self.owner_kind)
        self.api = ctx.client.resource(self.owner_kind)
        self.owners.add_index(podutil.BY_NAMESPACE, podutil.index_by_namespace)
        self.pods = ctx.informers.informer("Pod")
        self.pods.add_index(podutil.BY_CONTROLLER, podutil.index_by_controller)
        self.pods.add_index(podutil.ORPHANS, podutil.index_orphans)
        self.pod_api = ctx.client.resource("Pod")
        self.expectations = Expectations()
        self.follow(self.owners)
        self.pods.add_handler(on_add=self._pod_added, on_update=self._pod_updated,
                              on_delete=self._pod_deleted)

    def owner_of_key(self, key) -> Message | None:
        """The owner a sync is for, from the cache; None (and its expectations dropped) once it is gone."""
        namespace, name = key
        owner = self.owners.get(name, namespace)
        if owner is None:
            self.expectations.forget(key)
        return owner

    # -- pod events to owner keys

    def _owner_key(self, pod: Message, ref=None):
        ref = ref if ref is not None else podutil.controller_ref(pod)
        if ref is None or ref.kind != self.owner_kind:
            return None
        owner = self.owners.get(ref.name, pod.metadata.namespace)
        if owner is None or owner.metadata.uid != ref.uid:
            return None
        return key_of(owner)

    def _enqueue_matching_owners(self, pod: Message) -> None:
        for owner in self.owners.by_index(podutil.BY_NAMESPACE, pod.metadata.namespace):
            selector = selector_of(owner)
            if selector is not None and not selector.empty and selector.matches(pod.metadata.labels):
                self.queue.add(key_of(owner))

    def _pod_added(self, pod: Message) -> None:
        if podutil.is_deleting(pod):
            self._pod_deleted(pod)
            return
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif podutil.controller_ref(pod) is None:
            self._enqueue_matching_owners(pod)

    def _pod_updated(self, old: Message, new: Message) -> None:
        old_ref, new_ref = podutil.controller_ref(old), podutil.controller_ref(new)
        if old_ref is not None and (new_ref is None or old_ref.uid != new_ref.uid):
            if (old_key := self._owner_key(old, old_ref)) is not None:
                self.queue.add(old_key)
        key = self._owner_key(new, new_ref)
        if podutil.is_deleting(new) and not podutil.is_deleting(old) and key is not None:
            self.expectations.deletion_observed(key, new.metadata.uid)
        if key is not None:
            self.queue.add(key)
        elif new_ref is None and (old.metadata.labels != new.metadata.labels or old_ref is not None):
            self._enqueue_matching_owners(new)

    def _pod_deleted(self, pod: Message) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, pod.metadata.uid)
            self.queue.add(key)

    # -- helpers for sync

    async def claim_pods(self, owner: Message) -> list[Message]:
        """The owner's pods (all phases) after adoption and release."""
        return await claim(self.pod_api, owner,
                           owned=self.pods.by_index(podutil.BY_CONTROLLER, owner.metadata.uid),
                           orphans=self.pods.by_index(podutil.ORPHANS, owner.metadata.namespace))

    async def create_pods(self, owner: Message, count: int, *,
                          make: Callable[[int], Message] | None = None) -> None:
        """Create `count` pods, the i-th `make(i)` (default: from the owner's template); raises the
        first error after the rest are skipped."""
        key = key_of(owner)
        count = min(count, BURST)
        self.expectations.expect(key, creations=count)
        make = make or (lambda _: podutil.pod_from_template(owner.spec.template, owner))
        batch, remaining, created = 1, count, 0
        while remaining > 0:
            size = min(batch, remaining)
            first = count - remaining
            results = await asyncio.gather(*(self._create_one(owner, make(first + i)) for i in range(size)),
                                           return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            created += size - len(failures)
            remaining -= size
            if failures:
                for _ in range(len(failures) + remaining):  # never coming: stop waiting for them
                    self.expectations.creation_observed(key)
                raise failures[0]
            batch *= 2
        log.debug("%s %s: created %d pods", self.owner_kind, key, created)

    async def _create_one(self, owner: Message, pod: Message) -> None:
        try:
            created = await self.pod_api.create(pod)
        except errors.ApiError as e:
            self.recorder.event(owner, WARNING, "FailedCreate", f"Error creating: {e}")
            raise
        self.recorder.event(owner, NORMAL, "SuccessfulCreate", f"Created pod: {created.metadata.name}")

    async def delete_pods(self, owner: Message, victims: list[Message]) -> None:
        key = key_of(owner)
        victims = victims[:BURST]
        self.expectations.expect(key, deletions=[p.metadata.uid for p in victims])
        results = await asyncio.gather(*(self._delete_one(owner, key, p) for p in victims),
                                       return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]

    async def _delete_one(self, owner: Message, key, pod: Message) -> None:
        try:
            await self.pod_api.delete(pod.metadata.name, namespace=pod.metadata.namespace,
                                      uid=pod.metadata.uid)
        except errors.NotFound:
            self.expectations.deletion_observed(key, pod.metadata.uid)
            return
        except errors.ApiError as e:
            self.expectations.deletion_observed(key, pod.metadata.uid)
            self.recorder.event(owner, WARNING, "FailedDelete", f"Error deleting: {e}")
            raise
        self.recorder.event(owner, NORMAL, "SuccessfulDelete", f"Deleted pod: {pod.metadata.name}")
