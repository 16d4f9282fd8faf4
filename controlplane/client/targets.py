"""One gRPC target over several servers, for clients that move on when theirs is gone.

gRPC's pick-first balancing over a list of addresses connects to the first
that answers and, when that connection breaks, to the next that does: calls
in flight fail (UNAVAILABLE) and callers retry as they do after any server
restart; new calls go to a live server. The list must be literal addresses
(the ipv4:/ipv6: schemes), so names are resolved here, once.
"""
import socket


def grpc_target(endpoints: list[str]) -> str:
    """"host:port" for one endpoint; "ipv4:a:p,b:p" (or ipv6:) for several. Blocks on name lookups."""
    if len(endpoints) == 1:
        return endpoints[0]
    families, addresses = set(), []
    for endpoint in endpoints:
        host, _, port = endpoint.rpartition(":")
        infos = socket.getaddrinfo(host.strip("[]"), int(port), type=socket.SOCK_STREAM)
        family, *_, sockaddr = min(infos, key=lambda info: info[0] != socket.AF_INET)  # IPv4 first
        families.add(family)
        addresses.append(f"{sockaddr[0]}:{port}" if family == socket.AF_INET else f"[{sockaddr[0]}]:{port}")
    if len(families) > 1:
        raise ValueError(f"endpoints mix IPv4 and IPv6: {endpoints}")
    return ("ipv4:" if socket.AF_INET in families else "ipv6:") + ",".join(addresses)


def split(servers: str) -> list[str]:
    """The host:port entries of a comma-separated server list (https:// prefixes dropped)."""
    return [s.strip().removeprefix("https://").rstrip("/") for s in servers.split(",") if s.strip()]
