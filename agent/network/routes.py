"""Routes to the other nodes' podCIDRs, kept equal to a desired set with pyroute2.

Every route this module adds carries its own routing protocol number
(`ROUTE_PROTO`), the way routing daemons mark theirs: a restarted agent finds
exactly the routes it owns, prunes the stale ones and never touches routes
anyone else made. A gateway that is not on a directly connected network
cannot carry host-gw routes; that node's route is skipped and reported, the
others still go in. Blocking; the controller calls it from a worker thread.
"""
from __future__ import annotations

import errno
import logging
from dataclasses import dataclass, field

from agent.network.netns import iproute
from agent.pyroute import IPRoute, NetlinkError

log = logging.getLogger(__name__)

ROUTE_PROTO = 155   # any free number 0-255; /etc/iproute2/rt_protos lists the taken ones
MAIN_TABLE = 254


@dataclass
class RouteSyncResult:
    added: list[str] = field(default_factory=list)      # destinations added or changed
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # destination -> reason


def current_routes(*, netns: str | None = None) -> dict[str, str]:
    """Our routes now in the kernel: destination CIDR -> gateway."""
    with iproute(netns) as ipr:
        return _ours(ipr)


def _ours(ipr: IPRoute) -> dict[str, str]:
    return {f"{r.get('dst')}/{r['dst_len']}": r.get("gateway") or ""
            for r in ipr.route("dump", family=2, table=MAIN_TABLE, proto=ROUTE_PROTO)}


def sync_routes(desired: dict[str, str], *, netns: str | None = None) -> RouteSyncResult:
    """Make our routes exactly `desired` (destination CIDR -> gateway)."""
    result = RouteSyncResult()
    with iproute(netns) as ipr:
        present = _ours(ipr)
        for dst in present.keys() - desired.keys():
            ipr.route("del", dst=dst, table=MAIN_TABLE, proto=ROUTE_PROTO)
            result.removed.append(dst)
        for dst, gateway in desired.items():
            if present.get(dst) == gateway:
                continue
            try:
                ipr.route("replace", dst=dst, gateway=gateway, table=MAIN_TABLE, proto=ROUTE_PROTO)
            except NetlinkError as e:
                reason = "gateway not on a connected network" if e.code == errno.ENETUNREACH else str(e)
                result.failed[dst] = f"via {gateway}: {reason}"
                if dst in present:   # the old route points at the node's former address: drop it
                    ipr.route("del", dst=dst, table=MAIN_TABLE, proto=ROUTE_PROTO)
                    result.removed.append(dst)
                continue
            result.added.append(dst)
    return result


def remove_routes(*, netns: str | None = None) -> list[str]:
    """Delete every route of ours; the destinations there were."""
    return sync_routes({}, netns=netns).removed
