"""The proxy's control loop: Services, Endpoints and this Node, watched through informers,
feed the proxier (and the health check node ports, healthcheck.py).

Each object's share of the proxy state (its Service ports, or its endpoints by
port) is kept per object, so an event replaces exactly that share; entries of
every other object stay the same Python objects, which keeps the proxier's
change scan to identity checks. Nothing is programmed until all three
informers have listed once: a full sync from a half-known state would tear
down rules that are still right.
"""
from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Callable

from google.protobuf.message import Message

from controlplane.client import Client, InformerFactory
from controlplane.client.informer import key_of

from agent.proxy import adapter
from agent.proxy.applier import NetlinkApplier, delete_table
from agent.proxy.conntrack import ConntrackCleaner
from agent.proxy.healthcheck import HealthChecks
from agent.proxy.model import ProxyState, ServicePortName
from agent.proxy.names import table_name
from agent.proxy.programmed import ProgrammedRecord
from agent.proxy.proxier import Proxier
from agent.proxy.sink import DEFAULT_DEVICE as SINK_DEVICE, ensure_service_sink, remove_service_sink


class ProxyController:
    def __init__(self, *, factory: InformerFactory, node_name: str, proxier: Proxier,
                 health_checks: HealthChecks | None = None):
        """health_checks: where the health check node ports are served (None: not served)."""
        self.proxier = proxier
        self.health_checks = health_checks
        self._state = ProxyState()
        self._shares: dict[str, dict] = {"services": {}, "endpoints": {}}
        self._synced = False
        self._informers = []
        self._watch(factory.informer("Service"), "services", adapter.service_ports)
        self._watch(factory.informer("Endpoints"), "endpoints",
                    lambda eps: adapter.endpoints_by_port(eps, node_name=node_name))
        nodes = factory.informer("Node", field_selector=f"metadata.name={node_name}")
        nodes.add_handler(on_add=self._node, on_update=lambda _, new: self._node(new),
                          on_delete=lambda _: self._publish(replace(self._state, node_ips=frozenset()),
                                                            changed=()))
        self._informers.append(nodes)

    def _watch(self, informer, field: str, share_of: Callable[[Message], dict]) -> None:
        def changed(obj: Message, share: dict) -> None:
            mapping = dict(getattr(self._state, field))
            old_share = self._shares[field].pop(key_of(obj), {})
            for name in old_share:
                del mapping[name]
            mapping.update(share)
            if share:
                self._shares[field][key_of(obj)] = share
            self._publish(replace(self._state, **{field: mapping}), changed=[*old_share, *share])

        informer.add_handler(on_add=lambda obj: changed(obj, share_of(obj)),
                             on_update=lambda _, obj: changed(obj, share_of(obj)),
                             on_delete=lambda obj: changed(obj, {}))
        self._informers.append(informer)

    def _node(self, node: Message) -> None:
        self._publish(replace(self._state, node_ips=adapter.node_ips(node)), changed=())

    def _publish(self, state: ProxyState, *, changed: list[ServicePortName]) -> None:
        """changed: the Service ports whose entries this event replaced (node addresses are
        compared by the diff whatever the event)."""
        self._state = state
        if self._synced:
            self.proxier.update(state, changed=changed)
            if self.health_checks is not None:
                self.health_checks.update(state, changed=changed)

    async def run(self) -> None:
        for informer in self._informers:
            informer.start()
        await asyncio.gather(*(informer.wait_synced() for informer in self._informers))
        self._synced = True
        self.proxier.update(self._state)
        if self.health_checks is not None:
            self.health_checks.update(self._state)
        await self.proxier.run()


async def run_proxy(*, client: Client, node_name: str, service_cidr: str, netns: str | None = None,
                    full_sync_period: float = 3600.0, factory: InformerFactory | None = None,
                    programmed: ProgrammedRecord | None = None) -> None:
    """Everything `cox agent` needs for the proxy: the sink, the table's proxier, the watch loop.
    factory: the agent's, so that cluster DNS and the proxy keep one cache of the Services and
    Endpoints, fed by one watch each (None: informers of its own). programmed: where the proxier
    notes what it programmed when (the agent's server answers from it)."""
    await asyncio.to_thread(ensure_service_sink, cidr=service_cidr, netns=netns)
    applier = NetlinkApplier(netns=netns)
    proxier = Proxier(table=table_name(node_name), applier=applier,
                      conntrack=ConntrackCleaner(netns=netns), full_sync_period=full_sync_period,
                      programmed=programmed)
    health_checks = HealthChecks(netns=netns)
    try:
        await ProxyController(factory=factory or InformerFactory(client), node_name=node_name, proxier=proxier,
                              health_checks=health_checks).run()
    finally:
        health_checks.close()
        applier.close()


def cleanup(*, node_name: str, netns: str | None = None) -> list[str]:
    """Undo run_proxy (`cox agent --cleanup`): the node's table, the sink and its route; one line for each
    that was there. Conntrack entries are left to expire."""
    done = []
    table = table_name(node_name)
    if delete_table(table, netns=netns):
        done.append(f"removed nft table ip {table}")
    if remove_service_sink(netns=netns):
        done.append(f"removed link {SINK_DEVICE} and its route for the Service CIDR")
    return done
