"""Pod addresses from the node's podCIDR, kept on disk: the host-local IPAM of CNI, in our words.

One file per address in use, named by the address and holding the pod's
uid, made with O_EXCL: two allocations can never take one address, and an
agent that restarts finds every address where it left it. The same uid
always gets its own address back, so a pod whose sandbox is replaced keeps
its IP. New addresses are handed out round-robin after the last one given
(kept in the file `last`): a freed address is reused as late as possible,
since neighbours (the node's ARP cache, other pods) still hold its old MAC
address for a while. The lower half of the podCIDR is ours; the upper half is left to
Docker's IPAM for sandboxes Docker wires itself (hostPorts, podbridge.py).
"""
from __future__ import annotations

import ipaddress
import os
import threading
from pathlib import Path


DIRECTORY = "pod-addresses"   # under the agent's root directory
LAST = "last"                 # the file naming the address handed out last


class AddressesExhausted(RuntimeError):
    """Every address of the range is in use."""


def own_range(pod_cidr: str) -> list[str]:
    """The addresses this IPAM hands out: the lower half of the podCIDR, past the gateway (.1)."""
    network = ipaddress.ip_network(pod_cidr)
    lower = next(network.subnets(prefixlen_diff=1))
    return [str(a) for a in lower][2:]   # .0 is the network's, .1 the gateway


def docker_range(pod_cidr: str) -> str:
    """The upper half: Docker's IPAM range for the sandboxes it wires (--ip-range)."""
    return str(list(ipaddress.ip_network(pod_cidr).subnets(prefixlen_diff=1))[1])


class HostLocal:
    def __init__(self, directory: Path, pod_cidr: str) -> None:
        self.directory = directory
        self.pod_cidr = pod_cidr
        self._lock = threading.Lock()   # one allocation at a time in this process; O_EXCL guards the rest

    def allocate(self, uid: str) -> str:
        """The uid's address: the one it has, else the first free one."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            mine = self.address_of(uid)
            if mine is not None:
                return mine
            taken = {p.name for p in self.directory.iterdir()}
            candidates = own_range(self.pod_cidr)
            last = self.directory / LAST
            start = candidates.index(last.read_text()) + 1 if last.exists() and last.read_text() in candidates else 0
            for address in candidates[start:] + candidates[:start]:
                if address in taken:
                    continue
                try:
                    fd = os.open(self.directory / address, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:
                    continue
                with os.fdopen(fd, "w") as f:
                    f.write(uid)
                last.write_text(address)
                return address
        raise AddressesExhausted(f"no free pod address left in {self.pod_cidr}")

    def address_of(self, uid: str) -> str | None:
        return next((address for address, owner in self.allocations().items() if owner == uid), None)

    def allocations(self) -> dict[str, str]:
        """address → pod uid."""
        if not self.directory.is_dir():
            return {}
        found = {}
        for path in self.directory.iterdir():
            if path.name == LAST:
                continue
            try:
                found[path.name] = path.read_text()
            except FileNotFoundError:   # released meanwhile
                pass
        return found

    def release(self, uid: str) -> list[str]:
        """Free the uid's address(es); the ones freed."""
        freed = [address for address, owner in self.allocations().items() if owner == uid]
        for address in freed:
            (self.directory / address).unlink(missing_ok=True)
        return freed
