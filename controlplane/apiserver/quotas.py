"""Admission of a namespace's bounds: LimitRanger (defaults and bounds from LimitRanges) and
ResourceQuota (a create that would go past a quota's hard limits is refused).

LimitRanger runs on pod and claim creates: containers get the requests and
limits their namespace's LimitRanges default, then every bound is checked
(api/limitranges.py). ResourceQuota runs last on every namespaced create: for
each quota the object counts toward (api/resourcequota.py) it reads the quota
fresh from the store, refuses the create if it would not fit, and otherwise
adds the object's share to status.used in a write conditional on the quota's
resourceVersion, before the object itself is written, as Kubernetes does. Two
concurrent creates thus never both take the last slot: the second write
conflicts, reads the quota again and sees it full. An update is charged what
it adds (a Service turned NodePort). A charge for an object that is then not
written stays until the resource quota controller recounts.
"""
import asyncio
import collections

import grpc
from google.protobuf.message import Message

from controlplane.api import limitranges, qos, resourcequota, validation
from controlplane.api.kinds import by_name
from controlplane.apiserver import errors
from controlplane.apiserver.admission import AdmissionPlugin

_RETRIES = 10


def _refused(obj: Message, reasons: list[str]) -> errors.ApiError:
    """FORBIDDEN in Kubernetes' words: `pods "p" is forbidden: <reason>` (several in brackets)."""
    text = reasons[0] if len(reasons) == 1 else f"[{', '.join(reasons)}]"
    return errors.forbidden(f'{by_name(obj.DESCRIPTOR.name).plural} "{obj.metadata.name}" is forbidden: {text}')


class LimitRanger(AdmissionPlugin):
    """A new pod's or claim's defaults and bounds from the LimitRanges of its namespace (watch cache)."""

    def __init__(self, cache):
        self._cache = cache   # the LimitRange WatchCache

    async def admit_create(self, obj: Message, *, dry_run: bool = False) -> None:
        ranges = [c.obj for c in self._cache.list(namespace=obj.metadata.namespace)]
        if not ranges or validation.validate_create(obj):
            return   # an invalid object is refused by the registry next, naming the field
        if obj.DESCRIPTOR.name == "PersistentVolumeClaim":
            problems = limitranges.claim_violations(obj, ranges)
        else:
            said = limitranges.apply_defaults(obj, ranges)
            if said:
                obj.metadata.annotations[limitranges.ANNOTATION] = "LimitRanger plugin set: " + "; ".join(said)
                obj.status.qos_class = qos.qos_class(obj.spec)
            problems = limitranges.pod_violations(obj, ranges)
        if problems:
            raise _refused(obj, problems)


class ResourceQuotaAdmission(AdmissionPlugin):
    """Charge a new object to the quotas of its namespace, or refuse it."""

    def __init__(self, quotas, cache):
        self._quotas = quotas   # the ResourceQuota Registry
        self._cache = cache     # and its WatchCache
        # Charges to one quota from this server go one at a time (Kubernetes queues them per namespace):
        # concurrent creates would otherwise mostly spend their retries on each other's conflicts.
        self._turns: dict[tuple[str, str], asyncio.Lock] = collections.defaultdict(asyncio.Lock)

    async def admit_create(self, obj: Message, *, dry_run: bool = False) -> None:
        quotas = [c.obj for c in self._cache.list(namespace=obj.metadata.namespace)]
        if not quotas or validation.validate_create(obj):
            return   # an invalid object is refused by the registry next, and charged nothing
        for quota in quotas:
            if resourcequota.charged(quota, obj) or (obj.DESCRIPTOR.name == "Pod"
                                                     and resourcequota.missing(quota, obj)):
                await self._charge(quota.metadata.name, obj, dry_run=dry_run)

    async def admit_update(self, new: Message, old: Message, *, dry_run: bool = False) -> None:
        """An update that takes more (a Service turned LoadBalancer, a claim grown) is charged the growth."""
        quotas = [c.obj for c in self._cache.list(namespace=new.metadata.namespace)]
        if not quotas or validation.validate_update(new, old):
            return
        for quota in quotas:
            if resourcequota.charged(quota, new) - resourcequota.charged(quota, old):
                await self._charge(quota.metadata.name, new, old=old, dry_run=dry_run)

    async def _charge(self, name: str, obj: Message, *, old: Message | None = None, dry_run: bool) -> None:
        """Refuse `obj` or add its share (beyond `old`'s, on an update) to the quota's status.used."""
        async with self._turns[(obj.metadata.namespace, name)]:
            await self._charge_in_turn(name, obj, old=old, dry_run=dry_run)

    async def _charge_in_turn(self, name: str, obj: Message, *, old: Message | None, dry_run: bool) -> None:
        for _ in range(_RETRIES):   # conflicts now come only from other API servers
            try:
                quota = await self._quotas.get(obj.metadata.namespace, name)   # fresh, not cached
            except errors.ApiError as e:
                if e.code == grpc.StatusCode.NOT_FOUND:
                    return   # deleted meanwhile: it limits nothing
                raise
            if old is None and obj.DESCRIPTOR.name == "Pod" and resourcequota.matches_scopes(quota, obj):
                lacking = resourcequota.missing(quota, obj)
                if lacking:
                    raise _refused(obj, [f"failed quota: {name}: must specify {'; '.join(lacking)}"])
            delta = +resourcequota.charged(quota, obj)   # (+: without the zeros)
            if old is not None:
                delta -= resourcequota.charged(quota, old)   # only what grows
            if not delta:
                return
            problem = resourcequota.exceeded(quota, delta)
            if problem:
                raise _refused(obj, [problem])
            if dry_run:
                return
            used = resourcequota.add(quota.status.used, delta)
            quota.status.used.clear()
            quota.status.used.update(used)
            try:
                await self._quotas.update(quota, status_only=True)
                return
            except errors.ApiError as e:
                if e.code != grpc.StatusCode.ABORTED:
                    raise
        raise errors.conflict(self._quotas.kind, name, "too many concurrent writes against this quota, try again")
