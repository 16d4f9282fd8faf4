"""Node IPAM: give every Node a podCIDR, a slice of the cluster CIDR, and take it back.

The cluster CIDR (default 10.244.0.0/16) is cut into per-node subnets
(default /24). The allocator remembers which are in use; at start it learns
them from the Nodes that already have one, before handing out any. A Node
without spec.podCIDR gets the next free subnet (searching on from the last
one given, so a just-freed subnet is not reused at once); a deleted Node's
subnet is freed. The node's network agent routes its pods from that subnet.
"""
import ipaddress

from google.protobuf.message import Message

from controlplane.client import errors
from controlplane.client.events import NORMAL, WARNING
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.ownership import clone


class CIDRsExhausted(Exception):
    pass


class CIDRAllocator:
    def __init__(self, cluster_cidr: str, node_mask: int):
        self.network = ipaddress.ip_network(cluster_cidr)
        if not self.network.prefixlen <= node_mask <= self.network.max_prefixlen:
            raise ValueError(f"node CIDR mask /{node_mask} does not fit in the cluster CIDR {cluster_cidr}")
        self.node_mask = node_mask
        self.size = 2 ** (node_mask - self.network.prefixlen)
        self._step = 2 ** (self.network.max_prefixlen - node_mask)
        self._used: set[int] = set()
        self._next = 0

    def _subnet(self, index: int) -> str:
        first = int(self.network.network_address) + index * self._step
        return str(ipaddress.ip_network((first, self.node_mask)))

    def _index(self, cidr: str) -> int | None:
        try:
            subnet = ipaddress.ip_network(cidr)
        except ValueError:
            return None
        if subnet.version != self.network.version or subnet.prefixlen != self.node_mask \
                or not subnet.subnet_of(self.network):
            return None
        return (int(subnet.network_address) - int(self.network.network_address)) // self._step

    def allocate(self) -> str:
        if len(self._used) >= self.size:
            raise CIDRsExhausted(f"no free /{self.node_mask} left in {self.network}")
        index = self._next
        while index in self._used:
            index = (index + 1) % self.size
        self._used.add(index)
        self._next = (index + 1) % self.size
        return self._subnet(index)

    def occupy(self, cidr: str) -> bool:
        """Mark `cidr` as in use; False if it is not one of this allocator's subnets."""
        index = self._index(cidr)
        if index is None:
            return False
        self._used.add(index)
        return True

    def release(self, cidr: str) -> None:
        index = self._index(cidr)
        if index is not None:
            self._used.discard(index)

    @property
    def used(self) -> int:
        return len(self._used)


class NodeIPAMController(Controller):
    name = "nodeipam"
    workers = 1  # allocation is cheap; one worker keeps it simple to reason about

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.allocator = CIDRAllocator(ctx.options.cluster_cidr, ctx.options.node_cidr_mask_size)
        self.nodes = ctx.informers.informer("Node")
        self.api = ctx.client.resource("Node")
        self.nodes.add_handler(on_add=self._seen, on_update=lambda _old, new: self._seen(new),
                               on_delete=self._gone)

    def _seen(self, node: Message) -> None:
        if node.spec.pod_cidr:
            self.allocator.occupy(node.spec.pod_cidr)
        else:
            self.enqueue(node)

    def _gone(self, node: Message) -> None:
        if node.spec.pod_cidr and not any(n.spec.pod_cidr == node.spec.pod_cidr for n in self.nodes.list()):
            self.allocator.release(node.spec.pod_cidr)

    async def sync(self, key) -> None:
        _, name = key
        node = self.nodes.get(name)
        if node is None or node.spec.pod_cidr:
            return
        try:
            cidr = self.allocator.allocate()
        except CIDRsExhausted as e:
            self.recorder.event(node, WARNING, "CIDRNotAvailable", str(e))
            self.queue.add_after(key, 30)
            return
        new = clone(node)
        new.spec.pod_cidr = cidr
        del new.spec.pod_cidrs[:]
        new.spec.pod_cidrs.append(cidr)
        try:
            await self.api.update(new)
        except errors.ApiError:
            self.allocator.release(cidr)
            raise
        self.recorder.event(node, NORMAL, "CIDRAssigned", f"Node {name} got podCIDR {cidr}")
