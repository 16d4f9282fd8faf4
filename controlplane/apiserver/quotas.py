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
import dataclasses

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
        # Per quota, by (namespace, name): whose turn it is, the charges waiting, the quota as last written.
        self._turns: dict[tuple[str, str], asyncio.Lock] = collections.defaultdict(asyncio.Lock)
        self._waiting: dict[tuple[str, str], list[_Charge]] = collections.defaultdict(list)
        self._written: dict[tuple[str, str], Message] = {}

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
        """Refuse `obj` (FORBIDDEN) or add its share (beyond `old`'s, on an update) to the quota's status.used.

        Charges to one quota wait for their turn, and the one whose turn it is settles every charge waiting
        then in one write (Kubernetes batches them per namespace too): one store write for many creates, and
        no conflicts between this server's own charges.
        """
        key = (obj.metadata.namespace, name)
        charge = _Charge(obj, old, dry_run, asyncio.get_running_loop().create_future())
        self._waiting[key].append(charge)
        async with self._turns[key]:
            if not charge.outcome.done():
                batch, self._waiting[key] = self._waiting[key], []
                try:
                    await self._settle(key, batch)
                finally:
                    for unsettled in batch:   # a bug or a cancelled request must not leave the others waiting
                        if not unsettled.outcome.done():
                            unsettled.outcome.set_exception(errors.conflict(
                                self._quotas.kind, name, "the quota could not be charged, try again"))
        await charge.outcome

    async def _settle(self, key: tuple[str, str], batch: list["_Charge"]) -> None:
        for _ in range(_RETRIES):   # conflicts come only from other API servers and the controller
            # The quota as this server last wrote it saves a read; a write from it is still conditional on
            # its resourceVersion, and only a fresh read may refuse (a recount may have freed room since).
            quota, fresh = self._written.pop(key, None), False
            if quota is None:
                try:
                    quota, fresh = await self._quotas.get(*key), True
                except errors.ApiError as e:
                    if e.code != grpc.StatusCode.NOT_FOUND:
                        raise
                    quota = None   # deleted meanwhile: it limits nothing
            if quota is None:
                refusals = [None] * len(batch)
                break
            refusals, charged = self._decide_all(quota, batch)
            if not fresh and any(refusals):
                continue
            if not charged:
                break
            try:
                self._written[key] = await self._quotas.update(quota, status_only=True)
                break
            except errors.ApiError as e:
                if e.code == grpc.StatusCode.NOT_FOUND:
                    refusals = [None] * len(batch)
                    break
                if e.code != grpc.StatusCode.ABORTED:
                    raise
        else:
            refusals = [errors.conflict(self._quotas.kind, key[1], "too many concurrent writes against this "
                                        "quota, try again")] * len(batch)
        for charge, refusal in zip(batch, refusals):
            if refusal is None:
                charge.outcome.set_result(None)
            else:
                charge.outcome.set_exception(refusal)

    @staticmethod
    def _decide_all(quota: Message, batch: list["_Charge"]) -> tuple[list, bool]:
        """Each charge's refusal (or None), in order, adding the accepted ones to quota.status.used; and
        whether any changed it."""
        refusals, charged = [], False
        for charge in batch:
            try:
                used = _decide(quota, charge.obj, charge.old)
            except errors.ApiError as e:
                refusals.append(e)
                continue
            refusals.append(None)
            if used is not None and not charge.dry_run:
                quota.status.used.clear()
                quota.status.used.update(used)
                charged = True
        return refusals, charged


@dataclasses.dataclass
class _Charge:
    obj: Message
    old: Message | None
    dry_run: bool
    outcome: asyncio.Future


def _decide(quota: Message, obj: Message, old: Message | None) -> dict[str, str] | None:
    """status.used with `obj` charged (None: nothing to charge), or the FORBIDDEN refusal."""
    name = quota.metadata.name
    if old is None and obj.DESCRIPTOR.name == "Pod" and resourcequota.matches_scopes(quota, obj):
        lacking = resourcequota.missing(quota, obj)
        if lacking:
            raise _refused(obj, [f"failed quota: {name}: must specify {'; '.join(lacking)}"])
    delta = +resourcequota.charged(quota, obj)   # (+: without the zeros)
    if old is not None:
        delta -= resourcequota.charged(quota, old)   # only what grows
    if not delta:
        return None
    problem = resourcequota.exceeded(quota, delta)
    if problem:
        raise _refused(obj, [problem])
    return resourcequota.add(quota.status.used, delta)
