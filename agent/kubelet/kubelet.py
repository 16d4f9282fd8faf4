"""The kubelet: pod sources in, pod workers out, status back.

    sources ──▶ PodWorkers ──▶ PodWorker (one per pod) ──▶ Runtime (Docker)
    (API server pods of this node, static manifests)            │
                  ▲                                             ▼
                  └────── PLEG (relist + Docker events), probes ◀─┘
                              StatusManager ──▶ API server

It owns the node-wide pieces (the runtime connection, the container cache,
the probe manager, back-off, volumes, events) and hands them to every pod
worker as one NodeContext. Startup adopts what is already running: the
first relist fills the cache from Docker's labels, and no container is
touched until the sources have said which pods should exist. Stopping the
kubelet stops its tasks and leaves every container running.
"""
import asyncio
from collections.abc import Callable
import logging

from google.protobuf.message import Message

from agent.kubelet import static
from agent.kubelet.mirror import sync_mirrors
from agent.kubelet.node import NodeStatusReporter
from agent.kubelet.nodeinfo import HostFacts, NodeFacts
from agent.kubelet.backoff import BackOff
from agent.kubelet.config import KubeletConfig
from agent.kubelet.localpath import LocalPathCleaner
from agent.kubelet.objects import ApiObjects, NoObjects
from agent.kubelet.pleg import ContainerCache, Pleg
from agent.kubelet.podspec import DnsSettings
from agent.kubelet.podsandbox import SandboxNetwork
from agent.kubelet.podworker import NodeContext
from agent.kubelet.podworkers import PodWorkers
from agent.kubelet.prober import ProbeManager
from agent.kubelet.pullsecrets import NodeKeyring, node_keyring_paths
from agent.kubelet.recorder import WARNING, Recorder
from agent.kubelet.server import AgentServer
from agent.kubelet.sources import Source, Sources, informers
from agent.kubelet.statusmanager import StatusManager
from agent.kubelet.volumes import PodVolumes
from agent.proxy.programmed import ProgrammedRecord
from agent.runtime import Runtime
from controlplane.client import Client
from controlplane.client.errors import ApiError, NotFound

log = logging.getLogger(__name__)


class Kubelet:
    """The kubelet of one node.

    What it is built from can be handed in, so that hollow nodes
    (tests/support/hollow.py) can run many in one process: `sources` (by
    default informers of this node's pods and Node), `facts` (by default read
    from the host) and `tmpfs` (False keeps secret volumes on plain disk, for
    a test's temporary directory). The agent endpoint runs when
    `config.listen` says where; it answers from `proxy_programmed` when the node's proxy was asked
    programming times (None: the node runs no proxy).
    """

    def __init__(self, config: KubeletConfig, runtime: Runtime, client: Client | None = None, *,
                 host_ip: str = "", network_ready: Callable[[], bool] = lambda: True,
                 network: SandboxNetwork | None = None, sources: Sources | None = None,
                 facts: NodeFacts | None = None, tmpfs: bool = True, proxy_programmed: ProgrammedRecord | None = None) -> None:
        self.config = config
        self.runtime = runtime
        self.client = client
        self.host_ip = host_ip
        self.recorder = Recorder(client, host=config.node_name)
        # Only a real node cleans local-path volumes (hollow nodes bring their own sources).
        self.local_paths = LocalPathCleaner(client, config.node_name, config.root_dir) \
            if client is not None and sources is None and config.register_node else None
        if client is not None and sources is None:
            sources = informers(client, config.node_name)
        self.pods: Source | None = sources.pods if sources is not None else None
        self._node_source: Source | None = sources.node if sources is not None else None
        self._services: Source | None = sources.services if sources is not None else None
        self.status = StatusManager(client, lambda ns, name: self.pods.get(name, ns) if self.pods else None)
        cache = ContainerCache(runtime)
        self.probes = ProbeManager(runtime, on_change=self._changed, on_failure=self._probe_failed)
        objects = ApiObjects(client, services=self._services) if client else NoObjects()
        self.ctx = NodeContext(
            runtime=runtime, cache=cache, volumes=PodVolumes(config.root_dir, objects, tmpfs=tmpfs),
            objects=objects, probes=self.probes, backoff=BackOff(),
            recorder=self.recorder, dns=DnsSettings(config.cluster_dns, config.cluster_domain), host_ip=host_ip,
            volume_refresh=config.volume_refresh_seconds, network_ready=network_ready, network=network,
            keyring=NodeKeyring(node_keyring_paths(config.root_dir)))
        self.workers = PodWorkers(self.ctx, on_status=self.status.set, finalize=self._finalize)
        self.pleg = Pleg(runtime, cache, self._changed, period=config.relist_seconds)
        self._static: dict[str, Message] = {}
        self._tasks: list[asyncio.Task] = []
        self.server: AgentServer | None = None
        self.node: NodeStatusReporter | None = None
        if client is not None:
            if config.listen:
                self.server = AgentServer(runtime, cache, self.workers.desired, cert_dir=config.root_dir / "tls",
                                          ca_pem=client.config.ca.encode(), listen=config.listen,
                                          programmed=proxy_programmed)
            if config.register_node:
                self.node = NodeStatusReporter(
                    client, config, runtime, node_source=self._node_source, host_ip=host_ip,
                    facts=facts or HostFacts(config.root_dir, config.max_pods),
                    agent_cert_sha256=self.server.cert_sha256 if self.server else "")

    def pod_labels(self, namespace: str, name: str) -> dict[str, str]:
        """A bound pod's labels as the informer has them ({} if it is not known)."""
        pod = self.pods.get(name, namespace) if self.pods else None
        return dict(pod.metadata.labels) if pod is not None else {}

    def _changed(self, uid: str) -> None:
        self.workers.changed(uid)

    async def _probe_failed(self, pod: Message, container: str, kind: str, message: str) -> None:
        self.recorder.record(pod, WARNING, "Unhealthy", f"{kind.capitalize()} probe failed: {message}",
                             field_path=f"spec.containers{{{container}}}")

    # -- lifecycle

    async def start(self) -> None:
        await self.pleg.relist()            # adopt: learn every container we labelled, touch none
        self.status.start()
        self._tasks.append(asyncio.create_task(self.pleg.run(), name="pleg"))
        if self.config.pod_manifest_path is not None:
            self._sync_static()
            self._tasks.append(asyncio.create_task(self._watch_static(), name="static-pods"))
        if self.server is not None:
            port = await self.server.start()
            if self.node is not None:
                self.node.port = port
        if self.node is not None:
            self._node_source.start()
            self._tasks.append(asyncio.create_task(self.node.run(), name="node-status"))
        if self._services is not None:
            self._services.start()
        if self.local_paths is not None:
            self.local_paths.start()
        if self.pods is not None:
            self.pods.add_handler(on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted)
            self.pods.start()
            self._tasks.append(asyncio.create_task(self._sources_ready_after_list(), name="sources"))
            if self.config.pod_manifest_path is not None:
                self._tasks.append(asyncio.create_task(self._mirror_static(), name="mirror-pods"))
        else:
            self._mark_sources_ready()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for source in (self.pods, self._node_source, self._services, self.local_paths):
            if source is not None:
                await source.stop()
        if self.server is not None:
            await self.server.stop()
        await self.workers.stop()
        self.probes.stop()
        await self.status.stop()
        await self.recorder.stop()

    async def _sources_ready_after_list(self) -> None:
        await self.pods.wait_synced()
        self._mark_sources_ready()

    def _mark_sources_ready(self) -> None:
        """Every source has listed: containers and volumes of pods nobody wants may now go."""
        self.workers.sources_ready = True
        wanted = self.workers.desired()
        present = self.ctx.cache.pods()
        for uid in set(present) - set(wanted):
            self.workers.changed(uid)
        for uid in self.ctx.volumes.known_pods() - set(wanted) - set(present):
            asyncio.get_running_loop().create_task(self.ctx.volumes.teardown(uid))

    # -- the API server source

    def _pod_added(self, pod: Message) -> None:
        if static.is_mirror(pod):
            self.status.resync()    # a new mirror starts Pending: give it its static pod's status
            return
        self.workers.update(pod)

    def _pod_updated(self, old: Message, new: Message) -> None:
        if static.is_mirror(new):
            self._pod_added(new)
            return
        # Most updates are our own status writes coming back: those need no sync.
        self.workers.update(new, wake=_without_status(old) != _without_status(new))

    def _pod_deleted(self, pod: Message) -> None:
        if static.is_mirror(pod):
            return
        self.workers.remove(pod.metadata.uid)
        self.status.forget(pod.metadata.uid)

    async def _finalize(self, pod: Message) -> bool:
        """Containers are stopped: write the last status, then finish the API deletion."""
        if self.client is None or static.HASH_ANNOTATION in pod.metadata.annotations:
            return True
        await self.status.flush(pod.metadata.uid)
        try:
            await self.client.resource("Pod").delete(pod.metadata.name, namespace=pod.metadata.namespace,
                                                     grace_period_seconds=0, uid=pod.metadata.uid)
        except NotFound:
            pass
        except ApiError as e:
            log.info("finishing deletion of pod %s/%s: %s", pod.metadata.namespace, pod.metadata.name, e)
            return False
        return True

    # -- the static manifest source

    def _sync_static(self) -> None:
        found = static.read_manifests(self.config.pod_manifest_path, self.config.node_name)
        for uid in set(self._static) - set(found):
            self.workers.remove(uid)
            self.status.forget(uid)
        for uid, pod in found.items():
            if uid not in self._static:
                self.workers.update(pod)
        self._static = found

    async def _mirror_static(self) -> None:
        await self.pods.wait_synced()
        while True:
            try:
                await sync_mirrors(self.client, self._static, self.pods.list())
            except ApiError as e:
                log.info("mirror pods: %s", e)
            except Exception:   # a bug must not end mirroring for good
                log.exception("mirror pods")
            await asyncio.sleep(self.config.file_check_seconds)

    async def _watch_static(self) -> None:
        while True:
            await asyncio.sleep(self.config.file_check_seconds)
            self._sync_static()


def _without_status(pod: Message) -> Message:
    copy = type(pod)()
    copy.CopyFrom(pod)
    copy.ClearField("status")
    copy.metadata.resource_version = ""
    return copy
