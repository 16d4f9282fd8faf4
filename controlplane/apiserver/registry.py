"""Create, read, update and delete one kind in the store.

Every write is one conditional store write (create-only, or
update-if-unchanged on the mod revision read just before), done after all
checks, so a request that fails changes nothing and two writers never both
win. The object's resourceVersion is its key's mod revision; it is not stored
inside the value but set on every read.

A write's first attempt starts from the watch cache's copy of the object, as
Kubernetes' GuaranteedUpdate starts from the cacher's: the write is
conditional on that copy's mod revision, so a copy the cache has not yet
brought up to date only fails the condition, and the next attempt reads the
store. That spares an update (a kubelet's Lease renewal, a binding) the store
read, which costs as much CPU as the write.
"""
import asyncio
import random
import time
import uuid

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from controlplane.api import defaults, validation
from controlplane.api.errors import InvalidError
from controlplane.api.kinds import Kind
from controlplane.apiserver import errors, strategy
from controlplane.apiserver.watchcache import WatchCache
from controlplane.store import KeyValue, Store, WriteResult

# etcd refuses requests over 1.5 MiB by default; hold every backend to it.
MAX_OBJECT_BYTES = 1_572_864

_NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_UPDATE_RETRIES = 20


def now_timestamp() -> Timestamp:
    """Kubernetes' metav1.Time has whole seconds."""
    return Timestamp(seconds=int(time.time()))


class LeasePool:
    """Store leases for objects that expire (Events), one shared per minute.

    A lease per object would be a write per object more; Kubernetes reuses one
    lease for all objects written within a minute, and so do we. The lease
    lives TTL + one minute, so every object lives at least its TTL.
    """

    REUSE_SECONDS = 60

    def __init__(self, store: Store, ttl_seconds: int):
        self._store = store
        self._ttl = ttl_seconds
        self._lease = 0
        self._granted_at = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> int:
        async with self._lock:
            if time.monotonic() - self._granted_at > self.REUSE_SECONDS:
                self._lease = await self._store.grant_lease(self._ttl + self.REUSE_SECONDS)
                self._granted_at = time.monotonic()
            return self._lease


def decode(kind: Kind, kv: KeyValue) -> Message:
    obj = kind.message.FromString(kv.value)
    obj.metadata.resource_version = str(kv.mod_revision)
    return obj


def encode(obj: Message) -> bytes:
    """Serialize for the store, without the resourceVersion (the store tracks it) or a response-only field."""
    rv = obj.metadata.resource_version
    obj.metadata.resource_version = ""
    try:
        with strategy.without_response_only_fields(obj):
            return obj.SerializeToString(deterministic=True)
    finally:
        obj.metadata.resource_version = rv


def _content_without_meta_status(obj: Message) -> list:
    """The part of an object whose change bumps metadata.generation: its set fields but those two
    (compared field by field, in C, rather than copied and serialized)."""
    return [(field.number, value) for field, value in obj.ListFields() if field.name not in ("metadata", "status")]


def _deletion_complete(kind: Kind, obj: Message) -> bool:
    """A deletion with no grace left and nothing holding it back ends when written."""
    meta = obj.metadata
    return (meta.HasField("deletion_timestamp") and meta.deletion_grace_period_seconds == 0
            and not strategy.pending_finalizers(kind, obj))


class Registry:
    """The storage logic of one kind. Admission plugins run before each write."""

    def __init__(self, store: Store, kind: Kind, *, admission=(), ttl_seconds: int = 0,
                 cache: WatchCache | None = None):
        self.store = store
        self.kind = kind
        self.admission = tuple(admission)
        self.cache = cache   # the kind's watch cache: where a write's first attempt reads the object
        self._leases = LeasePool(store, ttl_seconds) if ttl_seconds else None

    # -- helpers

    def _scope(self, obj: Message) -> None:
        meta = obj.metadata
        if self.kind.namespaced:
            meta.namespace = meta.namespace or "default"
        elif meta.namespace:
            raise errors.invalid(f"metadata.namespace: {self.kind.name} is cluster-scoped, "
                                 f"namespace must be empty")

    def _check_type(self, obj: Message) -> None:
        if obj.kind and obj.kind != self.kind.name:
            raise errors.invalid(f'kind: must be "{self.kind.name}", not "{obj.kind}"')
        if obj.api_version and obj.api_version != self.kind.api_version:
            raise errors.invalid(f'apiVersion: must be "{self.kind.api_version}", not "{obj.api_version}"')
        obj.kind, obj.api_version = self.kind.name, self.kind.api_version

    def _validate(self, obj: Message, old: Message | None = None) -> bytes:
        """INVALID_ARGUMENT unless `obj` may be stored (over `old`); the bytes to store."""
        errs = validation.validate_update(obj, old) if old is not None else validation.validate_create(obj)
        if errs:
            raise errors.invalid(str(InvalidError(self.kind.name, obj.metadata.name, errs)), causes=errs)
        data = encode(obj)
        if len(data) > MAX_OBJECT_BYTES:
            raise errors.invalid(f"{self.kind.name} \"{obj.metadata.name}\" is too large: "
                                 f"{len(data)} bytes, the limit is {MAX_OBJECT_BYTES}")
        return data

    async def _read(self, namespace: str, name: str) -> tuple[Message, KeyValue]:
        kv = await self.store.get(self.kind.key(namespace, name))
        if kv is None:
            raise errors.not_found(self.kind, name)
        return decode(self.kind, kv), kv

    async def _read_for_write(self, namespace: str, name: str, *, attempt: int,
                              expect: str = "") -> tuple[Message, KeyValue, bool]:
        """The object a write starts from, its kv, and whether that came from the watch cache.

        The cache answers a first attempt if it holds the object at `expect` (the caller's
        resourceVersion, if any); a copy it lacks or has at another version may only be behind,
        so the store answers that, and every later attempt.
        """
        found = self.cache.get(self.kind.key(namespace, name)) if self.cache is not None and not attempt else None
        if found is None or found.kv is None or (expect and expect != str(found.kv.mod_revision)):
            return *await self._read(namespace, name), False
        return decode(self.kind, found.kv), found.kv, True

    # -- verbs

    async def get(self, namespace: str, name: str) -> Message:
        obj, _ = await self._read(namespace, name)
        return obj

    async def create(self, obj: Message, *, dry_run: bool = False) -> Message:
        """Store a new object; with dry_run, every check and no write (the object as it would be)."""
        self._check_type(obj)
        self._scope(obj)
        meta = obj.metadata
        if not meta.name and meta.generate_name:
            meta.name = meta.generate_name + "".join(random.choices(_NAME_SUFFIX_ALPHABET, k=5))
        if meta.resource_version:
            raise errors.invalid("metadata.resourceVersion: must be empty on create")
        meta.uid = str(uuid.uuid4())
        meta.creation_timestamp.CopyFrom(now_timestamp())
        meta.ClearField("deletion_timestamp")
        meta.ClearField("deletion_grace_period_seconds")
        meta.generation = 1
        strategy.prepare_for_create(self.kind, obj)
        defaults.apply_defaults(obj)
        key = self.kind.key(meta.namespace, meta.name)
        if dry_run:
            for plugin in self.admission:
                await plugin.admit_create(obj, dry_run=True)
            self._validate(obj)
            if await self.store.get(key) is not None:
                raise errors.already_exists(self.kind, meta.name)
            return obj
        try:
            # Inside: a later plugin's refusal (a full quota) gives back what an earlier one took (a ClusterIP).
            for plugin in self.admission:
                await plugin.admit_create(obj)
            data = self._validate(obj)
            result = await self.store.put(key, data, expect_mod_revision=0,
                                          lease=await self._lease_for(obj))
            if not result.succeeded:
                raise errors.already_exists(self.kind, meta.name)
        except BaseException:
            await self._release(obj)
            raise
        meta.resource_version = str(result.revision)
        return obj

    async def _lease_for(self, obj: Message) -> int:
        return await self._leases.current() if self._leases else 0

    async def _release(self, obj: Message) -> None:
        """Give back what admission allocated for an object that was not written."""
        for plugin in self.admission:
            await plugin.release(obj)

    async def update(self, obj: Message, *, status_only: bool = False, dry_run: bool = False) -> Message:
        """Replace an object; with status_only, only its status (the status subresource).

        With dry_run: every check, no write; the object as it would be stored.

        A resourceVersion in the request makes the update conditional on it
        (ABORTED if stale); without one the update applies to whatever is
        current, retrying if a concurrent write slips in between.
        """
        self._check_type(obj)
        self._scope(obj)
        meta = obj.metadata
        for attempt in range(_UPDATE_RETRIES):
            old, kv, cached = await self._read_for_write(meta.namespace, meta.name, attempt=attempt + dry_run,
                                                         expect=meta.resource_version)
            if meta.resource_version and meta.resource_version != old.metadata.resource_version:
                raise errors.conflict(self.kind, meta.name)
            new = self._merge(old, obj, status_only=status_only)
            if status_only:
                for plugin in self.admission:
                    await plugin.admit_status_update(new, old)
            else:
                defaults.apply_defaults(new)
                for plugin in self.admission:
                    await plugin.admit_update(new, old, dry_run=dry_run)
                # After defaults: a request that leaves out what defaults fill in changes nothing.
                if _content_without_meta_status(new) != _content_without_meta_status(old):
                    new.metadata.generation = old.metadata.generation + 1
            if dry_run:
                self._validate(new, old)
                return new
            written = None
            try:
                written = await self._write_update(new, old, kv)
            finally:
                for plugin in self.admission if not status_only else ():
                    if written is None:
                        await plugin.release_update(new, old)
                    elif written is not old:
                        await plugin.commit_update(written, old)
            if written is old and cached:
                continue   # nothing to write over the cache's copy: the store's may differ, ask it
            if written is not None:
                return written
            if meta.resource_version:
                raise errors.conflict(self.kind, meta.name)
        raise errors.conflict(self.kind, meta.name, "too many concurrent writers, try again")

    async def _write_update(self, new: Message, old: Message, kv: KeyValue) -> Message | None:
        """Validate and write `new` over `old`; None if a concurrent write got there first."""
        data = self._validate(new, old)
        if data == encode(old) and not kv.stale:   # stale: stored under an old key, rewrite to rotate
            return old
        if _deletion_complete(self.kind, new):
            result = await self.store.delete(kv.key, expect_mod_revision=kv.mod_revision)
            if result.succeeded:
                await self._release(new)
        else:
            result = await self.store.put(kv.key, data, expect_mod_revision=kv.mod_revision,
                                          lease=kv.lease)
        if not result.succeeded:
            return None
        new.metadata.resource_version = str(result.revision)
        return new

    def _merge(self, old: Message, request: Message, *, status_only: bool) -> Message:
        """The object to write: the request, with what the caller may not change taken from `old`."""
        new = type(old)()
        if status_only:
            new.CopyFrom(old)
            new.status.CopyFrom(request.status)
            return new
        new.CopyFrom(request)
        keep = old.metadata
        meta = new.metadata
        meta.uid = keep.uid
        meta.creation_timestamp.CopyFrom(keep.creation_timestamp)
        meta.generate_name = keep.generate_name
        meta.resource_version = keep.resource_version
        if keep.HasField("deletion_timestamp"):
            meta.deletion_timestamp.CopyFrom(keep.deletion_timestamp)
            meta.deletion_grace_period_seconds = keep.deletion_grace_period_seconds
        else:
            meta.ClearField("deletion_timestamp")
            meta.ClearField("deletion_grace_period_seconds")
        if "status" in new.DESCRIPTOR.fields_by_name:
            new.ClearField("status")
            if old.HasField("status"):  # an absent status stays absent, so the bytes compare equal
                new.status.CopyFrom(old.status)
        meta.generation = keep.generation
        return new

    async def delete(self, namespace: str, name: str, *, grace_period_seconds: int | None = None,
                     propagation_policy: str = "", precondition_uid: str = "",
                     precondition_resource_version: str = "") -> Message:
        """Delete now, or start a graceful or finalized deletion (deletionTimestamp set).

        Returns the object as it was deleted, or as it now is while deletion
        is pending.
        """
        finalizer = {"": None, "Background": None, "Foreground": "foregroundDeletion",
                     "Orphan": "orphan"}.get(propagation_policy, KeyError)
        if finalizer is KeyError:
            raise errors.invalid(f'propagationPolicy: must be Background, Foreground or Orphan, '
                                 f'not "{propagation_policy}"')
        for attempt in range(_UPDATE_RETRIES):
            obj, kv, cached = await self._read_for_write(namespace, name, attempt=attempt,
                                                         expect=precondition_resource_version)
            meta = obj.metadata
            if precondition_uid and precondition_uid != meta.uid:
                if cached:
                    continue   # the cache's copy may be of an earlier object of that name
                raise errors.conflict(self.kind, name, f"Precondition failed: UID in precondition: "
                                      f"{precondition_uid}, UID in object meta: {meta.uid}")
            if precondition_resource_version and precondition_resource_version != meta.resource_version:
                raise errors.conflict(self.kind, name)
            if finalizer and finalizer not in meta.finalizers:
                meta.finalizers.append(finalizer)
            grace = strategy.grace_period(self.kind, obj, grace_period_seconds)
            if grace > 0 or strategy.pending_finalizers(self.kind, obj):
                result = await self._mark_deleting(obj, kv, grace)
                if result.current is kv and cached:
                    continue   # already deleting in the cache's copy: the store's may differ, ask it
            else:
                result = await self.store.delete(kv.key, expect_mod_revision=kv.mod_revision)
                if result.succeeded:
                    await self._release(obj)
            if result.succeeded:
                meta.resource_version = str(result.revision)
                return obj
            if precondition_resource_version:
                raise errors.conflict(self.kind, name)
        raise errors.conflict(self.kind, name, "too many concurrent writers, try again")

    async def _mark_deleting(self, obj: Message, kv: KeyValue, grace: int) -> WriteResult:
        """Set deletionTimestamp (now + grace); a later, shorter grace may only bring it forward."""
        meta = obj.metadata
        deadline = now_timestamp()
        deadline.seconds += grace
        if not meta.HasField("deletion_timestamp") or deadline.seconds < meta.deletion_timestamp.seconds:
            meta.deletion_timestamp.CopyFrom(deadline)
            meta.deletion_grace_period_seconds = grace
        strategy.mark_deleting(self.kind, obj)
        data = encode(obj)
        if data == kv.value:  # already deleting, nothing new to say
            return WriteResult(succeeded=True, revision=kv.mod_revision, current=kv)
        return await self.store.put(kv.key, data, expect_mod_revision=kv.mod_revision, lease=kv.lease)

    async def bind(self, namespace: str, name: str, node_name: str) -> Message:
        """The pods/binding subresource: set spec.nodeName once."""
        for attempt in range(_UPDATE_RETRIES):
            pod, kv, cached = await self._read_for_write(namespace, name, attempt=attempt)
            if cached and (pod.spec.node_name or pod.metadata.HasField("deletion_timestamp")):
                continue   # refused on the cache's copy, which may be of an earlier pod of that name: ask the store
            if pod.spec.node_name:
                raise errors.failed_precondition(
                    f'pod {name} is already assigned to node "{pod.spec.node_name}"')
            if pod.metadata.HasField("deletion_timestamp"):
                raise errors.failed_precondition(f"pod {name} is being deleted, cannot be assigned to a host")
            pod.spec.node_name = node_name
            condition = next((c for c in pod.status.conditions if c.type == "PodScheduled"), None)
            if condition is None:
                condition = pod.status.conditions.add(type="PodScheduled")
            condition.status = "True"
            condition.reason = ""
            condition.message = ""
            condition.last_transition_time.CopyFrom(now_timestamp())
            result = await self.store.put(kv.key, encode(pod), expect_mod_revision=kv.mod_revision)
            if result.succeeded:
                pod.metadata.resource_version = str(result.revision)
                return pod
        raise errors.conflict(self.kind, name, "too many concurrent writers, try again")
