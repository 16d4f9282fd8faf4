"""The Service CIDR's sink: a local, empty bridge the whole range is routed into.

Why a route at all: a host process's packet is routed before the output hook
DNATs it, so a Service address needs some route or connect() fails with
"network unreachable" (an `unreachable` route fails the same way). Why not
towards the default gateway: an address no rule claims yet would leave the
node. A bridge with no ports swallows whatever is still addressed to it after
the nat hooks ran. (A `dummy` link would do the same, but this kernel has none.)
"""
from __future__ import annotations

from agent.network.netns import delete_link, ensure_bridge, iproute

DEFAULT_DEVICE = "cox-svc-sink"


def ensure_service_sink(*, cidr: str, device: str = DEFAULT_DEVICE, netns: str | None = None) -> None:
    """Create (if missing) and bring up `device`, and route `cidr` into it. Idempotent."""
    index = ensure_bridge(device, netns=netns)
    with iproute(netns) as ipr:
        ipr.route("replace", dst=cidr, oif=index)


def remove_service_sink(*, device: str = DEFAULT_DEVICE, netns: str | None = None) -> bool:
    """Delete `device`, and with it its route; False if there was none."""
    return delete_link(device, netns=netns)
