"""Cluster DNS as the agent runs it: informers on Services and Endpoints feed the zone; the server answers.

The server starts only after both informers have listed once: before that
every Service would be NXDOMAIN, which resolvers cache. Upstream servers for
other names are the node's own (/etc/resolv.conf) unless given.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from controlplane.client import Client, InformerFactory
from controlplane.client.informer import key_of

from agent.dns.listen import DEFAULT_ADDRESS, DEFAULT_DEVICE, bind_sockets, ensure_address
from agent.dns.server import DnsServer, Upstream
from agent.network.netns import delete_link
from agent.dns.zone import DEFAULT_DOMAIN, Zone, endpoint_records, service_record
from agent.pyroute import NetlinkError

log = logging.getLogger(__name__)

RESOLV_CONF = Path("/etc/resolv.conf")


def system_upstreams(*, exclude: str = DEFAULT_ADDRESS, resolv_conf: Path = RESOLV_CONF) -> list[Upstream]:
    """The nameservers of this host's resolv.conf (never our own address: that would loop)."""
    try:
        lines = resolv_conf.read_text().splitlines()
    except OSError:
        return []
    servers = [parts[1] for parts in (line.split() for line in lines)
               if len(parts) >= 2 and parts[0] == "nameserver" and parts[1] != exclude]
    return [(server, 53) for server in servers if ":" not in server]   # IPv4 only, like the rest


class ClusterDns:
    def __init__(self, *, client: Client, address: str = DEFAULT_ADDRESS, port: int = 53,
                 domain: str = DEFAULT_DOMAIN, upstreams: list[Upstream] | None = None,
                 netns: str | None = None, factory: InformerFactory | None = None):
        """factory: share one with the agent's other components (the proxy watches the same kinds)."""
        self.address = address
        self.port = port
        self.zone = Zone(domain)
        self.ready = asyncio.Event()   # set once it answers
        self._netns = netns
        self._upstreams = system_upstreams(exclude=address) if upstreams is None else upstreams
        self._own_informers = factory is None   # shared ones are the sharer's to stop
        factory = factory or InformerFactory(client)
        self._informers = [factory.informer("Service"), factory.informer("Endpoints")]
        services, endpoints = self._informers

        def service(obj):
            self.zone.set_service(key_of(obj), service_record(obj))

        def eps(obj):
            self.zone.set_endpoints(key_of(obj), endpoint_records(obj))

        services.add_handler(on_add=service, on_update=lambda _, obj: service(obj),
                             on_delete=lambda obj: self.zone.set_service(key_of(obj), None))
        endpoints.add_handler(on_add=eps, on_update=lambda _, obj: eps(obj),
                              on_delete=lambda obj: self.zone.set_endpoints(key_of(obj), None))

    async def run(self, *, retry_delay: float = 2.0) -> None:
        for informer in self._informers:
            informer.start()
        server = DnsServer(self.zone, upstreams=self._upstreams)
        try:
            await asyncio.gather(*(informer.wait_synced() for informer in self._informers))
            while True:
                try:
                    await asyncio.to_thread(ensure_address, self.address, netns=self._netns)
                    udp, tcp = await asyncio.to_thread(bind_sockets, self.address, self.port, netns=self._netns)
                    break
                except (OSError, NetlinkError) as e:   # e.g. the port is taken: say so, and keep trying
                    log.error("cluster DNS cannot listen on %s:%d: %s; retrying in %.0fs", self.address,
                              self.port, e, retry_delay)
                    await asyncio.sleep(retry_delay)
            await server.start(udp, tcp)
            log.info("cluster DNS for %s on %s:%d, upstream %s", self.zone.domain, self.address, self.port,
                     ", ".join(f"{h}:{p}" for h, p in self._upstreams) or "none")
            self.ready.set()
            await asyncio.Event().wait()   # serve until cancelled
        finally:
            await server.stop()
            for informer in self._informers if self._own_informers else ():
                await informer.stop()


async def run_dns(*, client: Client, address: str = DEFAULT_ADDRESS, port: int = 53,
                  domain: str = DEFAULT_DOMAIN, upstreams: list[Upstream] | None = None,
                  netns: str | None = None, factory: InformerFactory | None = None) -> None:
    """Cluster DNS as `cox agent` runs it; the kubelet's --cluster-dns is `address`."""
    await ClusterDns(client=client, address=address, port=port, domain=domain, upstreams=upstreams,
                     netns=netns, factory=factory).run()


def cleanup(*, netns: str | None = None) -> list[str]:
    """Undo run_dns (`cox agent --cleanup`): the device with the DNS address, a line if it was there."""
    return [f"removed link {DEFAULT_DEVICE} and its address"] if delete_link(DEFAULT_DEVICE, netns=netns) else []
