"""The Deployment controller: roll a pod template out through ReplicaSets.

Each sync takes one step and waits for the ReplicaSets to report back (their
status changes requeue the Deployment): create or find the new ReplicaSet,
grow it within maxSurge, shrink the old ones within maxUnavailable (or, for
Recreate, shrink the old ones to zero, wait for their pods to go, then grow
the new one), keep revisionHistoryLimit old ReplicaSets, and report status
with the Available and Progressing conditions. A paused Deployment is only
scaled. The arithmetic lives in rollout.py.

Rollback is the client's: `cox rollout undo` copies an old ReplicaSet's
template back into the Deployment, which makes that ReplicaSet the new one
again (its revision moves to the top).
"""

from google.protobuf.message import Message

from controlplane.client import errors
from controlplane.client.events import NORMAL
from controlplane.client.informer import key_of
from controlplane.controllers import pods as podutil
from controlplane.controllers import rollout
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.ownership import claim, clone, selector_of


class DeploymentController(Controller):
    name = "deployment"
    workers = 5

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.deployments = ctx.informers.informer("Deployment")
        self.deployments.add_index(podutil.BY_NAMESPACE, podutil.index_by_namespace)
        self.sets = ctx.informers.informer("ReplicaSet")
        self.sets.add_index(podutil.BY_CONTROLLER, podutil.index_by_controller)
        self.sets.add_index(podutil.ORPHANS, podutil.index_orphans)
        self.pods = ctx.informers.informer("Pod")
        self.pods.add_index(podutil.BY_CONTROLLER, podutil.index_by_controller)
        self.api = ctx.client.resource("Deployment")
        self.rs_api = ctx.client.resource("ReplicaSet")
        self.follow(self.deployments)
        self.follow(self.sets, self._owner_key_of_rs)
        self.sets.add_handler(on_add=self._enqueue_adopters,
                              on_update=lambda old, new: self._enqueue_adopters(new))
        self.pods.add_handler(on_delete=self._pod_deleted)

    # -- events to keys

    def _owner_key_of_rs(self, rs: Message):
        ref = podutil.controller_ref(rs)
        if ref is None or ref.kind != "Deployment":
            return None
        d = self.deployments.get(ref.name, rs.metadata.namespace)
        return key_of(d) if d is not None and d.metadata.uid == ref.uid else None

    def _enqueue_adopters(self, rs: Message) -> None:
        if podutil.controller_ref(rs) is not None:
            return
        for d in self.deployments.by_index(podutil.BY_NAMESPACE, rs.metadata.namespace):
            selector = selector_of(d)
            if selector is not None and not selector.empty and selector.matches(rs.metadata.labels):
                self.enqueue(d)

    def _pod_deleted(self, pod: Message) -> None:
        """Recreate waits for old pods to be gone; their deletion is its cue."""
        ref = podutil.controller_ref(pod)
        if ref is None or ref.kind != "ReplicaSet":
            return
        rs = self.sets.get(ref.name, pod.metadata.namespace)
        if rs is not None and (key := self._owner_key_of_rs(rs)) is not None:
            d = self.deployments.get(key[1], key[0])
            if d is not None and d.spec.strategy.type == "Recreate":
                self.queue.add(key)

    # -- sync

    async def sync(self, key) -> None:
        namespace, name = key
        d = self.deployments.get(name, namespace)
        if d is None:
            return
        rss = await claim(self.rs_api, d,
                          owned=self.sets.by_index(podutil.BY_CONTROLLER, d.metadata.uid),
                          orphans=self.sets.by_index(podutil.ORPHANS, namespace))
        step = _Step(self, d, rss)
        if podutil.is_deleting(d):
            await step.write_status()
        elif d.spec.paused or rollout.is_scaling_event(d, rss):
            await step.scale_only()
        elif d.spec.strategy.type == "Recreate":
            await step.recreate()
        else:
            await step.rolling()
        if (wait := rollout.seconds_to_deadline(step.d, step.d.status)) is not None:
            self.queue.add_after(key, wait)


class _Step:
    """One sync of one Deployment: its ReplicaSets as they are updated along the way."""

    def __init__(self, controller: DeploymentController, d: Message, rss: list[Message]):
        self.c = controller
        self.d = d
        self.rss = {rs.metadata.name: rs for rs in rss}
        self.started: tuple[str, str] | None = None

    @property
    def all(self) -> list[Message]:
        return list(self.rss.values())

    def split(self) -> tuple[Message | None, list[Message]]:
        return rollout.split_new_old(self.d, self.all)

    # -- strategies

    async def rolling(self) -> None:
        new, old = await self.new_and_old(create=True)
        wanted = rollout.new_rs_replicas(self.d, self.all, new)
        if wanted != rollout.replicas(new):
            await self.scale(new, wanted)
            return await self.write_status()
        plan = rollout.old_scale_down(self.d, self.all, old, new)
        if plan:
            for rs_name, count in plan.items():
                await self.scale(self.rss[rs_name], count)
            return await self.write_status()
        await self.finish()

    async def recreate(self) -> None:
        new, old = await self.new_and_old(create=False)
        running = rollout.active(old)
        if running:
            for rs in running:
                await self.scale(rs, 0)
            return await self.write_status()
        old_pods = [p for rs in old for p in self.c.pods.by_index(podutil.BY_CONTROLLER, rs.metadata.uid)]
        if rollout.old_pods_running(old_pods):
            return await self.write_status()
        if new is None:
            new, old = await self.new_and_old(create=True)
        if rollout.replicas(new) != rollout.replicas(self.d):
            await self.scale(new, rollout.replicas(self.d))
            return await self.write_status()
        await self.finish()

    async def scale_only(self) -> None:
        new, old = await self.new_and_old(create=False)
        for rs_name, count in rollout.proportional_scale(self.d, new, old).items():
            await self.scale(self.rss[rs_name], count)
        if self.d.spec.paused:
            await self.clean_history(old)
        await self.write_status()

    async def finish(self) -> None:
        new, old = self.split()
        status = rollout.compute_status(self.d, self.all, new, started=self.started)
        if rollout.is_complete(self.d, status):
            await self.clean_history(old)
        await self.write_status()

    # -- the new ReplicaSet and revisions

    async def new_and_old(self, *, create: bool) -> tuple[Message | None, list[Message]]:
        new, old = self.split()
        next_revision = rollout.max_revision(old) + 1
        if new is not None:
            await self._sync_revision(new, next_revision)
        elif create:
            await self._create_new(next_revision)
        else:
            return None, old
        new, old = self.split()
        if self.d.metadata.annotations.get(rollout.REVISION) != str(rollout.revision(new)):
            d = clone(self.d)
            d.metadata.annotations[rollout.REVISION] = str(rollout.revision(new))
            self.d = await self.c.api.update(d)
        return new, old

    async def _sync_revision(self, new: Message, next_revision: int) -> None:
        """Move a ReplicaSet that becomes new again (a rollback) to the newest revision."""
        wanted = dict(rollout.copied_annotations(self.d))
        current = rollout.revision(new)
        if current < next_revision:
            wanted[rollout.REVISION] = str(next_revision)
            if current:
                history = [h for h in new.metadata.annotations.get(rollout.REVISION_HISTORY, "").split(",") if h]
                wanted[rollout.REVISION_HISTORY] = ",".join(history + [str(current)])
        if all(new.metadata.annotations.get(k) == v for k, v in wanted.items()):
            return
        rs = clone(new)
        rs.metadata.annotations.update(wanted)
        self.rss[rs.metadata.name] = await self.c.rs_api.update(rs)
        if current < next_revision and current:
            self.started = (rollout.FOUND_NEW_RS, f'Found new replica set "{rs.metadata.name}"')

    async def _create_new(self, next_revision: int) -> None:
        d = self.d
        collisions = d.status.collision_count if d.status.HasField("collision_count") else 0
        count = rollout.new_rs_replicas(d, self.all, None)
        rs = rollout.new_replica_set(d, replicas_count=count, revision_number=next_revision,
                                     collision_count=collisions)
        try:
            created = await self.c.rs_api.create(rs)
        except errors.AlreadyExists:
            existing = await self.c.rs_api.get(rs.metadata.name, namespace=d.metadata.namespace)
            ref = podutil.controller_ref(existing)
            if ref is not None and ref.uid == d.metadata.uid and \
                    rollout.templates_equal(existing.spec.template, d.spec.template):
                self.rss[existing.metadata.name] = existing  # ours, from a sync the cache has not seen
                return
            # A different template hashed to the same name: step the hash and try again.
            status_d = clone(d)
            status_d.status.collision_count = collisions + 1
            await self.c.api.update_status(status_d)
            raise
        self.rss[created.metadata.name] = created
        self.started = (rollout.NEW_RS_CREATED, f'Created new replica set "{created.metadata.name}"')
        self.c.recorder.event(d, NORMAL, "ScalingReplicaSet",
                              f"Scaled up replica set {created.metadata.name} to {count}")

    # -- writes

    async def scale(self, rs: Message, count: int) -> None:
        before = rollout.replicas(rs)
        annotations = rollout.replicas_annotations(self.d)
        if before == count and all(rs.metadata.annotations.get(k) == v for k, v in annotations.items()):
            return
        new = clone(rs)
        new.spec.replicas = count
        new.metadata.annotations.update(annotations)
        self.rss[new.metadata.name] = await self.c.rs_api.update(new)
        if before != count:
            direction = "up" if count > before else "down"
            self.c.recorder.event(self.d, NORMAL, "ScalingReplicaSet",
                                  f"Scaled {direction} replica set {rs.metadata.name} to {count} from {before}")

    async def clean_history(self, old: list[Message]) -> None:
        for rs in rollout.history_to_delete(self.d, old):
            try:
                await self.c.rs_api.delete(rs.metadata.name, namespace=rs.metadata.namespace,
                                           uid=rs.metadata.uid)
            except errors.NotFound:
                pass
            self.rss.pop(rs.metadata.name, None)

    async def write_status(self) -> None:
        new, _ = self.split()
        status = rollout.compute_status(self.d, self.all, new, started=self.started)
        if status == self.d.status:
            return
        d = clone(self.d)
        d.status.CopyFrom(status)
        self.d = await self.c.api.update_status(d)
