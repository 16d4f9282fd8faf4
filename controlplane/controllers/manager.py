"""The controller manager: every controller in one process, over one set of informers.

    manager = ControllerManager(client, ControllerOptions())
    await manager.run(stop)          # stop: an asyncio.Event; returns once it is set

`cox server` runs it beside the API server; `cox controller-manager` runs it
alone against any API server. With leader election on (the default) several
may run: the one holding the Lease kube-system/cox-controller-manager acts,
the others wait to take over. Each term as leader starts from scratch: new
informers (one watch per kind, shared by all controllers), then the
controllers once every cache has synced, so nothing acts on a partial view.
"""
import asyncio
import logging

from controlplane.client import Client, InformerFactory
from controlplane.client.leaderelection import LeaderElector
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.cronjob import CronJobController
from controlplane.controllers.daemonset import DaemonSetController
from controlplane.controllers.disruption import DisruptionController
from controlplane.controllers.deployment import DeploymentController
from controlplane.controllers.endpoints import EndpointsController
from controlplane.controllers.garbagecollector import GarbageCollector
from controlplane.controllers.job import JobController
from controlplane.controllers.namespace import NamespaceController
from controlplane.controllers.nodeipam import NodeIPAMController
from controlplane.controllers.nodelifecycle import NodeLifecycleController
from controlplane.controllers.options import CONTROLLER_NAMES, ControllerOptions
from controlplane.controllers.persistentvolume import PersistentVolumeController
from controlplane.controllers.podautoscaler import HorizontalPodAutoscalerController
from controlplane.controllers.podgc import PodGCController
from controlplane.controllers.replicaset import ReplicaSetController
from controlplane.controllers.resourcequota import ResourceQuotaController
from controlplane.controllers.serviceaccount import ServiceAccountController
from controlplane.controllers.servicelb import ServiceLBController
from controlplane.controllers.statefulset import StatefulSetController
from controlplane.controllers.volumeprotection import VolumeProtectionController

log = logging.getLogger(__name__)

CONTROLLERS: dict[str, type[Controller]] = {c.name: c for c in (
    ReplicaSetController, DeploymentController, DaemonSetController, StatefulSetController, PersistentVolumeController,
    VolumeProtectionController, DisruptionController, ResourceQuotaController, JobController, CronJobController,
    EndpointsController, ServiceLBController, NamespaceController, GarbageCollector, ServiceAccountController,
    NodeIPAMController, NodeLifecycleController,
    PodGCController, HorizontalPodAutoscalerController)}
assert tuple(CONTROLLERS) == CONTROLLER_NAMES, "options.CONTROLLER_NAMES must list the controllers, in order"

LEASE_NAME = "cox-controller-manager"


class ControllerManager:
    def __init__(self, client: Client, options: ControllerOptions | None = None):
        self.client = client
        self.options = options or ControllerOptions()
        self.controllers: dict[str, Controller] = {}   # of the current term, for tests and metrics
        self.leading = asyncio.Event()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run (campaigning first if leader election is on) until `stop` is set or cancelled."""
        opts = self.options
        stop = stop or asyncio.Event()
        if not opts.leader_elect:
            work = asyncio.create_task(self._lead(), name="controller-manager")
            stopper = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (work, stopper):
                    task.cancel()
                results = await asyncio.gather(work, stopper, return_exceptions=True)
            if isinstance(results[0], Exception):
                raise results[0]
            return
        elector = LeaderElector(self.client, name=LEASE_NAME, identity=opts.identity,
                                lease_duration=opts.lease_duration, renew_deadline=opts.renew_deadline,
                                retry_period=opts.retry_period)
        await elector.run(self._lead, stop=stop)

    async def _lead(self) -> None:
        informers = InformerFactory(self.client)
        ctx = Context(client=self.client, informers=informers, options=self.options)
        self.controllers = {name: CONTROLLERS[name](ctx) for name in self.options.controllers}
        informers.start()
        tasks: list[asyncio.Task] = []
        try:
            await informers.wait_synced()
            log.info("controller manager %s: caches synced, starting %s", self.options.identity,
                     ", ".join(self.controllers))
            tasks = [asyncio.create_task(c.run(self.options.workers), name=f"controller-{name}")
                     for name, c in self.controllers.items()]
            self.leading.set()
            await asyncio.gather(*tasks)
        finally:
            self.leading.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await informers.stop()
