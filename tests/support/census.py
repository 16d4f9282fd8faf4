"""Following a workload's pods through a watch, to check bounds that must hold at every moment.

A rolling update promises never more than replicas+maxSurge pods and never
fewer than replicas-maxUnavailable ready ones: a claim about every moment of
the rollout, which only a watch (not polling) can check. The census keeps the
extremes seen over all the events it received.
"""
from controlplane.client.informer import Informer
from controlplane.controllers import pods as podutil
from controlplane.controllers.rollout import POD_TEMPLATE_HASH


class PodCensus:
    """The pods selected by `label_selector`, followed from `async with` until its end."""

    def __init__(self, client, label_selector: str, *, namespace: str = "", hash_label: str = POD_TEMPLATE_HASH):
        self.hash_label = hash_label   # the label naming a pod's template (DaemonSets: controller-revision-hash)
        self.informer = Informer(client.resource("Pod"), namespace=namespace, label_selector=label_selector)
        self.max_active = 0
        self.min_ready = None
        self.templates_together = False   # did pods of two templates ever run at once?
        self.informer.add_handler(on_add=self._look, on_update=lambda _o, _n: self._look(None),
                                  on_delete=self._look)

    def active(self) -> list:
        return [p for p in self.informer.list() if podutil.is_active(p)]

    def _look(self, _pod) -> None:
        active = self.active()
        self.max_active = max(self.max_active, len(active))
        ready = sum(1 for p in active if podutil.is_ready(p))
        self.min_ready = ready if self.min_ready is None else min(self.min_ready, ready)
        self.templates_together |= len({p.metadata.labels.get(self.hash_label) for p in active}) > 1

    async def __aenter__(self):
        self.informer.start()
        await self.informer.wait_synced(10)
        self.max_active, self.min_ready = 0, None
        return self

    async def __aexit__(self, *exc):
        await self.informer.stop()
