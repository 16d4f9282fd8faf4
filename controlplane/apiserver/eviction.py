"""The pods/eviction subresource: delete a pod unless a PodDisruptionBudget forbids it now.

What kubectl drain calls. A pod that is finished, still Pending or already
being deleted goes at once; so does one no budget selects. Otherwise its one
budget decides (controlplane/api/disruption.py): an eviction that spends a
disruption takes it from the budget's status in a write conditional on the
budget's resourceVersion before the pod is deleted, so concurrent evictions
can never spend the same one (a lost race is retried on the fresh budget).
A refusal is RESOURCE_EXHAUSTED (HTTP 429 TooManyRequests), which clients
retry, as kubectl drain does.
"""
import time

import grpc

from google.protobuf.message import Message

from controlplane.api import disruption
from controlplane.apiserver import errors

_RETRIES = 5


class Evictions:
    def __init__(self, pods, budgets, budget_cache):
        self._pods = pods            # the Pod Registry
        self._budgets = budgets      # the PodDisruptionBudget Registry
        self._cache = budget_cache   # and its WatchCache

    async def evict(self, eviction: Message) -> Message:
        namespace, name = eviction.metadata.namespace or "default", eviction.metadata.name
        options = eviction.delete_options
        grace = options.grace_period_seconds if options.HasField("grace_period_seconds") else None
        for _ in range(_RETRIES):
            pod = await self._pods.get(namespace, name)
            if not self._guarded(pod):
                return await self._delete(pod, grace, options)
            budgets = [c.obj for c in self._cache.list(namespace=namespace, match=lambda o: disruption.selects(o, pod))]
            if not budgets:
                return await self._delete(pod, grace, options)
            if len(budgets) > 1:
                raise errors.failed_precondition("This pod has more than one PodDisruptionBudget, "
                                                 "which the eviction subresource does not support.")
            budget = await self._budgets.get(namespace, budgets[0].metadata.name)   # fresh, not cached
            verdict = disruption.eviction_verdict(budget, pod)
            if not verdict.allowed:
                raise errors.too_many_requests(verdict.reason)
            if verdict.spend:
                spent = type(budget)()
                spent.CopyFrom(budget)
                spent.status.disruptions_allowed -= 1
                spent.status.disrupted_pods[name].seconds = int(time.time())
                try:
                    await self._budgets.update(spent, status_only=True)
                except errors.ApiError as e:
                    if e.code == grpc.StatusCode.ABORTED:
                        continue   # another eviction spent from it meanwhile: decide again
                    raise
            return await self._delete(pod, grace, options)
        raise errors.too_many_requests("too many concurrent evictions; try again")

    @staticmethod
    def _guarded(pod: Message) -> bool:
        return (pod.status.phase not in (*disruption.FINISHED, "Pending")
                and not pod.metadata.HasField("deletion_timestamp"))

    async def _delete(self, pod: Message, grace: int | None, options: Message) -> Message:
        return await self._pods.delete(pod.metadata.namespace, pod.metadata.name, grace_period_seconds=grace,
                                       precondition_uid=options.preconditions.uid,
                                       precondition_resource_version=options.preconditions.resource_version)
