"""The service load balancer controller: LoadBalancer Services served by the nodes themselves.

k3s' ServiceLB's way on bare hosts, which have no cloud load balancer: every
node answers on the Service's port at its own address, and the Service's
`status.loadBalancer.ingress` lists those addresses, so `kubectl get svc`
shows them as EXTERNAL-IP. The answering is the node proxies' part: each
programs every ingress address of a LoadBalancer Service (agent/proxy/), as
kube-proxy does for any load balancer's addresses. This controller only
decides the addresses: the InternalIPs of the Ready nodes not labelled
`node.kubernetes.io/exclude-from-external-load-balancers`.

A node's address at one port can serve only one Service: where two claim the
same port and protocol, the one already served keeps it (else the older one)
and the other gets no addresses (its status stays empty, a Warning Event says why) until the port
is free, as a ServiceLB pod of the newer one could not bind the port. A
Service of another `loadBalancerClass` is left alone: its own implementation
writes its status. A Service that stops being a LoadBalancer loses the
addresses it was given.

`plan()` is the whole decision, a pure function of the Services and Nodes; the
controller reads its caches, asks it, and writes the differences. One key for
everything: a port freed by one Service moves to another, so they are decided
together (and a burst of events shares one sync).
"""
from __future__ import annotations

from google.protobuf.message import Message

from controlplane.api.wellknown import LOAD_BALANCER_CLASS
from controlplane.client import errors
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.nodelifecycle import ready_status
from controlplane.controllers.ownership import clone

EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
ALL = "all"

Key = tuple[str, str]  # (namespace, name)


def is_ours(svc: Message) -> bool:
    return svc.spec.type == "LoadBalancer" and svc.spec.load_balancer_class in ("", LOAD_BALANCER_CLASS)


def node_addresses(nodes: list[Message]) -> list[str]:
    """The addresses a load balancer Service answers on: the Ready nodes' InternalIPs, sorted."""
    return sorted({a.address for node in nodes
                   if ready_status(node) == "True" and EXCLUDE_LABEL not in node.metadata.labels
                   for a in node.status.addresses if a.type == "InternalIP" and ":" not in a.address})


def _ports(svc: Message) -> set[tuple[str, int]]:
    return {(p.protocol or "TCP", p.port) for p in svc.spec.ports}


def _precedence(svc: Message) -> tuple:
    """Who gets a contested port first: a Service already being served (its addresses stay put),
    then the older one (creation times have whole seconds: then by namespace and name)."""
    stamp = svc.metadata.creation_timestamp
    return not current(svc), stamp.seconds, stamp.nanos, svc.metadata.namespace, svc.metadata.name


def plan(services: list[Message], nodes: list[Message]) -> tuple[dict[Key, list[str]], dict[Key, Key]]:
    """The ingress addresses each Service should show, for those whose status is ours to write
    (Services of another class are absent), and the Services left out because an older one holds
    one of their ports (key -> that older Service's key)."""
    addresses = node_addresses(nodes)
    wanted: dict[Key, list[str]] = {}
    blocked: dict[Key, Key] = {}
    held: dict[tuple[str, int], Key] = {}
    for svc in sorted(services, key=_precedence):
        key = (svc.metadata.namespace, svc.metadata.name)
        if svc.spec.type != "LoadBalancer":
            wanted[key] = []
            continue
        if not is_ours(svc):
            continue
        holder = next((held[port] for port in sorted(_ports(svc)) if port in held), None)
        if holder is not None:
            wanted[key], blocked[key] = [], holder
            continue
        held.update(dict.fromkeys(_ports(svc), key))
        wanted[key] = addresses
    return wanted, blocked


def current(svc: Message) -> list[str]:
    return [i.ip for i in svc.status.load_balancer.ingress]


class ServiceLBController(Controller):
    name = "servicelb"
    workers = 1
    min_sync_interval = 0.5

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.services = ctx.informers.informer("Service")
        self.nodes = ctx.informers.informer("Node")
        self.api = ctx.client.resource("Service")
        self._warned: dict[Key, Key] = {}  # blocked Service -> the holder its Warning named
        self.follow(self.services, key=lambda _: ALL)
        self.follow(self.nodes, key=lambda _: ALL)

    async def sync(self, key) -> None:
        wanted, blocked = plan(self.services.list(), self.nodes.list())
        for (namespace, name), addresses in wanted.items():
            svc = self.services.get(name, namespace)
            if svc is not None and current(svc) != addresses:
                await self._write(svc, addresses)
        for svc_key, holder in blocked.items():
            svc = self.services.get(svc_key[1], svc_key[0])
            if svc is not None and self._warned.get(svc_key) != holder:
                self.recorder.event(svc, "Warning", "PortInUse",
                                    f"a port of this Service is served on the nodes by {holder[0]}/{holder[1]}; "
                                    "it gets no addresses until that port is free")
        self._warned = blocked

    async def _write(self, svc: Message, addresses: list[str]) -> None:
        new = clone(svc)
        del new.status.load_balancer.ingress[:]
        for address in addresses:
            new.status.load_balancer.ingress.add(ip=address)
        try:
            await self.api.update_status(new)
        except errors.NotFound:
            return
        if svc.spec.type == "LoadBalancer":
            self.recorder.event(svc, "Normal", "UpdatedLoadBalancer",
                                f"serving on the nodes' addresses: {', '.join(addresses) or 'none'}")
