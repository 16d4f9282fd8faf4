"""Allocate unique values (ClusterIPs, NodePorts) from a range, through the store.

Each allocated value is a key of its own, written create-only: two API
servers (or two requests) can never both win the same value, on SQLite or on
etcd, with no lock. The value's holder is recorded in the key, so a repair
pass can free values whose holder is gone (an API server that crashed between
allocating and writing the object), as Kubernetes' repair controllers do.
"""
import ipaddress
import random

from controlplane.apiserver import errors
from controlplane.store import Store

_RANDOM_TRIES = 16


class RangeFull(Exception):
    pass


class Allocator:
    """A finite range of values, each held by at most one owner."""

    def __init__(self, store: Store, *, name: str, values: range, dynamic_from: int = 0,
                 render=str, parse=int):
        self._store = store
        self._prefix = f"/registry/allocations/{name}/"
        self._values = values            # indexes into the range
        self._dynamic = range(values.start + dynamic_from, values.stop)  # random picks stay here
        self._render, self._parse = render, parse

    def _key(self, index: int) -> str:
        return self._prefix + self._render(index)

    def contains(self, value) -> bool:
        try:
            return self._parse(value) in self._values
        except ValueError:
            return False

    async def is_free(self, value) -> bool:
        return await self._store.get(self._key(self._parse(value))) is None

    async def allocate(self, owner: str, value=None) -> str:
        """Take `value` (AlreadyAllocated if held) or, with None, any free value."""
        if value is not None:
            index = self._parse(value)
            if not await self._take(index, owner):
                raise AlreadyAllocated(self._render(index))
            return self._render(index)
        for _ in range(_RANDOM_TRIES):
            index = random.choice(self._dynamic)
            if await self._take(index, owner):
                return self._render(index)
        return await self._allocate_by_scan(owner)

    async def _allocate_by_scan(self, owner: str) -> str:
        """A nearly full range: walk the held values for a gap instead of guessing."""
        held = {self._parse(kv.key[len(self._prefix):]) for kv in (await self._store.range(self._prefix)).kvs}
        for index in self._dynamic:
            if index not in held and await self._take(index, owner):
                return self._render(index)
        raise RangeFull(self._prefix)

    async def _take(self, index: int, owner: str) -> bool:
        result = await self._store.put(self._key(index), owner.encode(), expect_mod_revision=0)
        return result.succeeded

    async def release(self, value, owner: str) -> None:
        """Free `value` if `owner` holds it (a stale release never frees someone else's)."""
        kv = await self._store.get(self._key(self._parse(value)))
        if kv is not None and kv.value.decode() == owner:
            await self._store.delete(kv.key, expect_mod_revision=kv.mod_revision)

    async def holders(self) -> dict[str, tuple[str, int]]:
        """value -> (owner, mod revision), for the repair pass."""
        return {kv.key[len(self._prefix):]: (kv.value.decode(), kv.mod_revision)
                for kv in (await self._store.range(self._prefix)).kvs}

    async def release_if_unchanged(self, value: str, mod_revision: int) -> None:
        await self._store.delete(self._prefix + value, expect_mod_revision=mod_revision)


class AlreadyAllocated(Exception):
    pass


def ip_allocator(store: Store, cidr: str) -> Allocator:
    """ClusterIPs from `cidr`, without its network and broadcast addresses.

    Random picks avoid the first 16 addresses, kept for Services that ask for a
    fixed IP (cluster DNS at .10, say), the way Kubernetes splits its range.
    """
    network = ipaddress.ip_network(cidr)
    base = int(network.network_address)
    return Allocator(store, name=f"clusterips-{network.network_address}-{network.prefixlen}",
                     values=range(base + 1, base + network.num_addresses - 1), dynamic_from=16,
                     render=lambda i: str(ipaddress.ip_address(i)),
                     parse=lambda v: int(ipaddress.ip_address(v)))


def port_allocator(store: Store, ports: range) -> Allocator:
    return Allocator(store, name="nodeports", values=ports)


def invalid_value(path: str, value, reason: str) -> errors.ApiError:
    return errors.invalid(f'{path}: Invalid value: "{value}": {reason}')
