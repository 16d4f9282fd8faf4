"""Every name and path of one local cluster, derived from its name alone.

Deriving them (rather than only recording them) is what lets `down` clean up
after an `up` that crashed before it wrote anything down, and keeps two
clusters with different names from ever sharing a namespace, link, cgroup,
socket or directory.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
RUN_ROOT = Path("/run/cox-local")              # sockets, exec roots, the state file: gone at reboot, like the cluster
STATE_ROOT = Path("/var/lib/cox/local")        # default home of server data and node data roots
# The RFC 2544 benchmarking range 198.18.0.0/15 (never routed anywhere) holds all of a local cluster's
# addresses, split so that machines, pods and Services can never overlap: the machines' /24s (one per
# cluster, picked by name) in the first half; pods (a /24 per node, by the node IPAM) and ClusterIPs in
# the second. Pods and Services live inside the node namespaces, so clusters may share those two.
NODE_SUBNETS = ipaddress.ip_network("198.18.0.0/16")
CLUSTER_CIDR = ipaddress.ip_network("198.19.0.0/17")      # pods: `cox server/agent --cluster-cidr`
SERVICE_CIDR = ipaddress.ip_network("198.19.128.0/20")    # ClusterIPs: `cox server/agent --service-cidr`
SWITCH_BRIDGE = "br0"                          # inside the switch namespace, so the name needs no uniqueness
NODE_LINK = "eth0"                             # a node's uplink, inside its namespace
HOST_OFFSET, NODE_OFFSET = 1, 10               # host .1, node i .(10+i)
SERVER_OFFSET = 1                              # with --servers N (HA): server i in its own namespace at .(1+i)
MAX_NODES = 200
MAX_SERVERS = NODE_OFFSET - SERVER_OFFSET - 1


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ValueError(f"cluster name {name!r}: lower-case letters, digits and '-', starting with a letter, "
                         f"at most 20 characters")
    return name


@dataclass(frozen=True)
class Layout:
    name: str
    state_dir: Path
    run_dir: Path

    @classmethod
    def of(cls, name: str, *, state_dir: Path | None = None, run_root: Path = RUN_ROOT) -> Layout:
        check_name(name)
        return cls(name=name, state_dir=Path(state_dir or STATE_ROOT / name).resolve(), run_dir=run_root / name)

    # -- namespaces and links

    @property
    def prefix(self) -> str:
        return f"cox-{self.name}-"

    @property
    def switch_netns(self) -> str:
        return f"{self.prefix}sw"

    def node_netns(self, node: str) -> str:
        return f"{self.prefix}{node}"

    @property
    def host_link(self) -> str:
        """The host end of the veth into the switch: 15 characters at most, unique per cluster name."""
        return f"cx{hashlib.sha1(self.name.encode()).hexdigest()[:8]}h"

    @staticmethod
    def switch_port(node: str) -> str:
        return f"p-{node}"[:15]

    @staticmethod
    def node_name(index: int) -> str:
        return f"node{index}"

    @staticmethod
    def server_name(index: int) -> str:
        """An HA cluster's server i (--servers N): a machine of its own, like a node."""
        return f"server{index}"

    def cgroup_parent(self, node: str) -> str:
        return f"/{self.prefix}{node}"

    # -- paths

    @property
    def state_file(self) -> Path:
        return self.run_dir / "state.json"

    @property
    def server_dir(self) -> Path:
        return self.state_dir / "server"

    @property
    def admin_config(self) -> Path:
        return self.server_dir / "admin.yaml"

    def server_data_dir(self, server: str) -> Path:
        """server1's is server_dir (its admin.yaml, tokens and server-token are the cluster's)."""
        return self.server_dir if server == self.server_name(1) else self.state_dir / server

    @property
    def ha_admin_config(self) -> Path:
        """The admin's client config naming every server (--servers N): clients move on when one is gone."""
        return self.state_dir / "admin.yaml"

    def node_dir(self, node: str) -> Path:
        return self.state_dir / node

    def node_run_dir(self, node: str) -> Path:
        """Short paths for sockets (a unix socket path must fit in 108 bytes)."""
        return self.run_dir / node

    def docker_url(self, node: str) -> str:
        return f"unix://{self.node_run_dir(node)}/docker.sock"

    def log_path(self, process: str) -> Path:
        return self.state_dir / "logs" / f"{process}.log"


def server_addresses(subnet: ipaddress.IPv4Network, servers: int) -> list[str]:
    return [str(subnet.network_address + SERVER_OFFSET + i) for i in range(1, servers + 1)]


def addresses(subnet: ipaddress.IPv4Network, nodes: int) -> tuple[str, list[str]]:
    """The host's address and each node's on the cluster's /24."""
    base = subnet.network_address
    return str(base + HOST_OFFSET), [str(base + NODE_OFFSET + i) for i in range(1, nodes + 1)]


def preferred_subnets(name: str):
    """The /24s of NODE_SUBNETS, starting at one picked by the name's hash, so names rarely collide."""
    subnets = list(NODE_SUBNETS.subnets(new_prefix=24))
    start = int(hashlib.sha1(name.encode()).hexdigest(), 16) % len(subnets)
    return subnets[start:] + subnets[:start]
