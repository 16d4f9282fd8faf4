"""The Service CIDR's sink: a local, empty bridge the whole range is routed into.

Why a route at all: a host process's packet is routed before the output hook
DNATs it, so a Service address needs some route or connect() fails with
"network unreachable" (an `unreachable` route fails the same way). Why not
towards the default gateway: an address no rule claims yet would leave the
node. A bridge with no ports swallows whatever is still addressed to it after
the nat hooks ran. (A `dummy` link would do the same, but this kernel has none.)
"""
from __future__ import annotations

from pyroute2 import IPRoute

DEFAULT_DEVICE = "cox-svc-sink"


def _iproute(netns: str | None) -> IPRoute:
    return IPRoute() if netns is None else IPRoute(netns=netns)


def ensure_service_sink(*, cidr: str, device: str = DEFAULT_DEVICE, netns: str | None = None) -> None:
    """Create (if missing) and bring up `device`, and route `cidr` into it. Idempotent."""
    with _iproute(netns) as ipr:
        if not ipr.link_lookup(ifname=device):
            ipr.link("add", ifname=device, kind="bridge")
        index = ipr.link_lookup(ifname=device)[0]
        ipr.link("set", index=index, state="up")
        ipr.route("replace", dst=cidr, oif=index)


def remove_service_sink(*, device: str = DEFAULT_DEVICE, netns: str | None = None) -> None:
    """Delete `device`; its route goes with it."""
    with _iproute(netns) as ipr:
        for index in ipr.link_lookup(ifname=device):
            ipr.link("del", index=index)
