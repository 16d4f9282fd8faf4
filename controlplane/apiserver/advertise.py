"""The address this API server tells pods to reach it at (`cox server --advertise-address`).

It goes into the `default/kubernetes` Endpoints (kubernetesservice.py), so it
must be one the nodes can route to: as kube-apiserver does, the listen
address when that is a specific, non-loopback one, otherwise the address of
the interface holding the default route. Read from /proc and one ioctl rather
than through pyroute2, which would cost the server ~10 MB resident.
"""
import fcntl
import ipaddress
import logging
import socket
import struct

log = logging.getLogger(__name__)

SIOCGIFADDR = 0x8915   # linux/sockios.h: get an interface's IPv4 address
ROUTES = "/proc/net/route"


def advertise_address(listen_host: str, *, given: str = "") -> str:
    """The address to advertise: `given`, the listen host, or the default route's interface address.

    "" when there is none (no default route): then this server puts no
    address of its own into the Endpoints.
    """
    if given:
        return str(ipaddress.ip_address(given))
    try:
        host = ipaddress.ip_address(listen_host)
    except ValueError:
        host = None
    if host is not None and not host.is_unspecified and not host.is_loopback:
        return str(host)
    return default_route_address()


def default_route_address(routes: str = ROUTES) -> str:
    """The IPv4 address of the interface of the default route; "" if there is no default route."""
    try:
        with open(routes) as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return ""
    for line in lines:
        fields = line.split()
        if len(fields) > 2 and fields[1] == "00000000":   # destination 0.0.0.0: the default route
            address = interface_address(fields[0])
            if address:
                return address
    return ""


def interface_address(name: str) -> str:
    """The (first) IPv4 address of interface `name`; "" if it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            answer = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
        except OSError:
            return ""
    return socket.inet_ntoa(answer[20:24])
