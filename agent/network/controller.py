"""The pod network's control loop: Nodes, watched through an informer, become this node's set-up and routes.

Two things follow from the Nodes:
- this node's own podCIDR (from node IPAM): forwarding on, the Docker pod
  network on that subnet, the masquerade table, and Docker's FORWARD rules
  opened for the cluster CIDR. Then `ready` is set: sandboxes may be made;
  with an address directory, the kubelet makes them with network_mode=none
  and has them wired here (`allocate`, `attach`, `release`: veth.py, ipam.py);
- every other node's podCIDR and InternalIP: one route each.

Level-triggered and coalescing like the proxier: events only wake the loop,
which compares the wanted state with what it last applied and acts in a
worker thread (pyroute2, nft and Docker calls block). A full pass runs at
start and every `resync_period`, repairing drift (a route someone deleted, a
link that went down and took its routes along). Nothing is programmed before
the informer has listed once: routes from a half-known node list would prune
good ones.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from google.protobuf.message import Message

from controlplane.client import Client, InformerFactory

from agent.network import dockerfw, masquerade, podbridge, routes, veth
from agent.network.ipam import HostLocal
from agent.network.netns import enable_forwarding
from agent.network.model import DEFAULT_CLUSTER_CIDR, NodeRoute, desired_routes, gateway_of, node_route
from agent.runtime.dockerapi import DockerAPI
from agent.runtime.dockerhttp import DockerError

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = 30.0   # seconds; failures back off from retry_delay up to this


class PodNetwork:
    def __init__(self, *, client: Client, node_name: str, docker_url: str,
                 cluster_cidr: str = DEFAULT_CLUSTER_CIDR, netns: str | None = None,
                 network_name: str = podbridge.POD_NETWORK, bridge_name: str = podbridge.POD_BRIDGE,
                 resync_period: float = 60.0, retry_delay: float = 2.0, factory: InformerFactory | None = None,
                 address_dir: Path | None = None):
        """factory: share one with the agent's other components (one watch per kind and selector).
        address_dir: where pod addresses are kept (ipam.py); without it Docker wires every sandbox."""
        self.node_name = node_name
        self.cluster_cidr = cluster_cidr
        self.network_name = network_name
        self.bridge_name = bridge_name
        self.ready = asyncio.Event()   # set once this node's pod network exists (the kubelet waits on it)
        self.pod_cidr = ""             # this node's, once set up
        self._netns = netns
        self._resync_period = resync_period
        self._retry_delay = retry_delay
        self._nodes: dict[str, NodeRoute] = {}
        self._wake = asyncio.Event()
        self._api = DockerAPI(docker_url)   # connects when first used: dockerd may still be starting
        self._address_dir = address_dir
        self._addresses: HostLocal | None = None   # made once the podCIDR is known
        self._own_informer = factory is None   # a shared one is the sharer's to stop
        self._informer = (factory or InformerFactory(client)).informer("Node")
        self._informer.add_handler(on_add=self._changed, on_update=lambda _, new: self._changed(new),
                                   on_delete=self._deleted)

    @property
    def gateway(self) -> str:
        """The bridge's address: the pods' default gateway."""
        return gateway_of(self.pod_cidr) if self.pod_cidr else ""

    def wires_pods(self) -> bool:
        """Sandboxes may be made with network_mode=none and wired here."""
        return self._addresses is not None and self.ready.is_set()

    def allocate(self, uid: str) -> str:
        """The pod's address (the one it had, if any). Blocking: call it in a worker thread."""
        return self._addresses.allocate(uid)

    def attach(self, *, pid: int, uid: str, attempt: int, address: str) -> None:
        """Wire the namespace of process `pid` (the pod's sandbox) into the pod bridge. Blocking."""
        veth.attach(pid=pid, host_name=veth.host_ifname(uid, attempt), address=address, pod_cidr=self.pod_cidr,
                    bridge=self.bridge_name, netns=self._netns)

    def attached(self, *, uid: str, attempt: int) -> bool:
        """Whether that sandbox of the pod has been wired into the pod bridge. Blocking."""
        return veth.attached(host_name=veth.host_ifname(uid, attempt), netns=self._netns)

    def release(self, uid: str) -> list[str]:
        """Free the pod's address once it is gone (its veth went with its namespace). Blocking."""
        return self._addresses.release(uid) if self._addresses is not None else []

    def _changed(self, node: Message) -> None:
        route = node_route(node)
        if self._nodes.get(node.metadata.name) != route:
            self._nodes[node.metadata.name] = route
            self._wake.set()

    def _deleted(self, node: Message) -> None:
        if self._nodes.pop(node.metadata.name, None) is not None:
            self._wake.set()

    async def run(self) -> None:
        self._informer.start()
        try:
            await self._informer.wait_synced()
            await self._loop()
        finally:
            if self._own_informer:
                await self._informer.stop()
            self._api.close()

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        applied_routes: dict[str, str] | None = None
        next_full = loop.time()
        failures = 0
        while True:
            self._wake.clear()
            full = loop.time() >= next_full
            retry = None
            try:
                own = self._nodes.get(self.node_name)
                if own is not None and own.pod_cidr and (full or own.pod_cidr != self.pod_cidr):
                    await asyncio.to_thread(self._set_up_node, own.pod_cidr)
                    self.pod_cidr = own.pod_cidr
                    self.ready.set()
                desired = desired_routes(self._nodes, own_name=self.node_name)
                if full or desired != applied_routes:
                    result = await asyncio.to_thread(routes.sync_routes, desired, netns=self._netns)
                    _log_routes(result)
                    applied_routes = desired
                if full:
                    next_full = loop.time() + self._resync_period
                failures = 0
            except Exception:
                retry = min(self._retry_delay * 2 ** failures, MAX_RETRY_DELAY)
                failures += 1
                log.exception("pod network: sync failed; retrying in %.1fs", retry)
                applied_routes = None
            timeout = max(0.0, next_full - loop.time()) if retry is None else retry
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    def _set_up_node(self, pod_cidr: str) -> None:
        enable_forwarding(netns=self._netns)
        created = podbridge.ensure_pod_network(self._api, pod_cidr=pod_cidr, name=self.network_name,
                                               bridge=self.bridge_name)
        masquerade.ensure_masquerade(self.cluster_cidr, netns=self._netns)
        if self._address_dir is not None and podbridge.splits_addresses(self._api, pod_cidr=pod_cidr,
                                                                         name=self.network_name):
            self._addresses = HostLocal(self._address_dir, pod_cidr)
        docker_firewall = dockerfw.ensure_docker_user_accept(self.cluster_cidr, netns=self._netns)
        if created or pod_cidr != self.pod_cidr:
            log.info("pod network %s (bridge %s) on %s, gateway %s%s", self.network_name, self.bridge_name,
                     pod_cidr, gateway_of(pod_cidr), "; Docker's FORWARD rules opened for the cluster CIDR"
                     if docker_firewall else "")


def _log_routes(result: routes.RouteSyncResult) -> None:
    for dst in result.added:
        log.info("route to pods %s added", dst)
    for dst in result.removed:
        log.info("route to pods %s removed", dst)
    for dst, reason in result.failed.items():
        log.warning("route to pods %s not made: %s", dst, reason)


def cleanup(*, netns: str | None = None) -> list[str]:
    """Undo PodNetwork's host state on this node (`cox agent --cleanup`): one line per object removed.

    The masquerade table, our routes to other nodes' pods and our DOCKER-USER accepts; the pod
    network in Docker is cleanup_docker_network's. Forwarding stays on: whether it was on before
    the agent came is not known.
    """
    done = []
    if masquerade.remove_masquerade(netns=netns):
        done.append(f"removed nft table ip {masquerade.TABLE}")
    done += [f"removed route to pods {dst}" for dst in routes.remove_routes(netns=netns)]
    if count := dockerfw.remove_docker_user_accept(netns=netns):
        done.append(f"removed {count} rule(s) from iptables chain {dockerfw.CHAIN}")
    return done


def cleanup_docker_network(*, docker_url: str) -> list[str]:
    """Remove the pod network from Docker (with its bridge) unless containers are still on it:
    removing those is the kubelet's clean-up (--cleanup-pods), which runs first."""
    with DockerAPI(docker_url) as api:
        try:
            if podbridge.remove_pod_network(api):
                return [f"removed Docker network {podbridge.POD_NETWORK} (bridge {podbridge.POD_BRIDGE})"]
        except podbridge.PodNetworkBusy as e:
            return [f"kept Docker network {podbridge.POD_NETWORK}: {e}; --cleanup-pods removes the pods"]
        except ConnectionError as e:
            raise RuntimeError(f"Docker at {docker_url} does not answer (is dockerd running?): {e}") from None
        except DockerError as e:
            raise RuntimeError(f"Docker at {docker_url}: {e}") from None
    return []


async def run_network(*, client: Client, node_name: str, docker_url: str,
                      cluster_cidr: str = DEFAULT_CLUSTER_CIDR, netns: str | None = None,
                      factory: InformerFactory | None = None) -> None:
    """The pod network as `cox agent` runs it (construct PodNetwork yourself to wait on `ready`)."""
    await PodNetwork(client=client, node_name=node_name, docker_url=docker_url, cluster_cidr=cluster_cidr,
                     netns=netns, factory=factory).run()
