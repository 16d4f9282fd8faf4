"""`--metrics-bind-address`: the flag every component takes, cheap to import (every `cox` command
registers its flags; the server behind it, endpoint.py, loads aiohttp only when run)."""
import ipaddress

FLAG = "--metrics-bind-address"

# The documented defaults: loopback, on the ports Kubernetes' components used for plain-HTTP metrics.
SCHEDULER_DEFAULT = "127.0.0.1:10251"
CONTROLLER_MANAGER_DEFAULT = "127.0.0.1:10252"
AGENT_DEFAULT = "127.0.0.1:10249"


def add_flag(parser, *, default: str) -> None:
    parser.add_argument(FLAG, default=default, metavar="HOST:PORT",
                        help="also serve Prometheus metrics, unauthenticated, at http://HOST:PORT/metrics "
                             f"(default {default + ': loopback only' if default else 'none'}; empty: off)")


def parse(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    host = host.strip("[]")
    try:
        number = int(port)
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f'{FLAG}: "{address}" is not IP:PORT') from None
    if not sep or not 0 <= number <= 65535:
        raise ValueError(f'{FLAG}: "{address}" is not IP:PORT')
    return host, number
