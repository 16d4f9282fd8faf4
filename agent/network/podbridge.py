"""The pod bridge: a Docker network on the node's podCIDR that pause containers join.

Being a Docker network (not a bridge we address ourselves) is what makes the
pause container's address the pod IP: Docker's IPAM hands out addresses from
the podCIDR, the bridge is the pods' default gateway, and the kubelet only
names the network when it creates a sandbox. Docker's masquerade is off on
it: pod-to-pod traffic across nodes must keep its source address
(masquerade.py handles traffic leaving the cluster).

Docker's IPAM hands out only the upper half of the podCIDR (`ip_range`):
most sandboxes are made with network_mode=none and wired by the agent onto
the same bridge with addresses from the lower half (veth.py, ipam.py); only
sandboxes Docker must wire itself (hostPorts, which Docker publishes) join
the network through Docker.

This is the one Docker call outside agent/runtime: the network is the pod
network's object, made once per podCIDR, not a per-pod runtime action.
"""
from __future__ import annotations

from agent.network.ipam import docker_range
from agent.network.model import gateway_of
from agent.runtime import labels
from agent.runtime.dockerapi import DockerAPI
from agent.runtime.dockerhttp import DockerError

POD_NETWORK = "cox-pods"     # the name the kubelet gives sandboxes (network_mode)
POD_BRIDGE = "cox0"          # the Linux bridge Docker makes for it
LABEL = "io.coxswain.pod-cidr"


class PodNetworkBusy(RuntimeError):
    """The network exists on another subnet and still has containers: it cannot be remade yet."""


def bridge_options(bridge: str) -> dict[str, str]:
    return {"com.docker.network.bridge.name": bridge,
            "com.docker.network.bridge.enable_ip_masquerade": "false",
            "com.docker.network.bridge.enable_icc": "true"}


def _inspect(api: DockerAPI, name: str) -> dict | None:
    """The network as Docker describes it; None if there is none."""
    try:
        return api.inspect_network(name)
    except DockerError as e:
        if e.status == 404:
            return None
        raise


def ensure_pod_network(api: DockerAPI, *, pod_cidr: str, name: str = POD_NETWORK,
                       bridge: str = POD_BRIDGE) -> bool:
    """Make the network match pod_cidr; True if it was (re)created. Idempotent."""
    gateway = gateway_of(pod_cidr)
    options = bridge_options(bridge)
    existing = _inspect(api, name)
    if existing is not None:
        subnets = [(c.get("Subnet"), c.get("Gateway"), c.get("IPRange"))
                   for c in (existing.get("IPAM") or {}).get("Config") or []]
        have = existing.get("Options") or {}
        same = all(have.get(k) == v for k, v in options.items())
        if same and subnets == [(pod_cidr, gateway, docker_range(pod_cidr))]:
            return False
        if same and subnets == [(pod_cidr, gateway, None)] and existing.get("Containers"):
            # Made before Docker's IPAM was limited to the upper half, and pods are on it: kept until they
            # are gone (remade then), so an upgraded node goes on starting pods meanwhile, through Docker
            # (splits_addresses is False: the agent must not hand out addresses Docker may hold).
            return False
        if existing.get("Containers"):
            raise PodNetworkBusy(f"network {name} is on {subnets}, not {pod_cidr}, and has containers: "
                                 f"remove its pods first")
        api.remove_network(existing["Id"])
    api.create_network(name, driver="bridge", options=options, labels={LABEL: pod_cidr},
                       ipam={"Driver": "default", "Config": [{"Subnet": pod_cidr, "Gateway": gateway,
                                                              "IPRange": docker_range(pod_cidr)}]})
    return True


def splits_addresses(api: DockerAPI, *, pod_cidr: str, name: str = POD_NETWORK) -> bool:
    """Docker's IPAM on the network keeps to the upper half: the lower half is the agent's (ipam.py)."""
    existing = _inspect(api, name)
    if existing is None:
        return False
    config = (existing.get("IPAM") or {}).get("Config") or []
    return [c.get("IPRange") for c in config] == [docker_range(pod_cidr)]


def wired_sandboxes(api: DockerAPI) -> int:
    """How many running sandboxes the agent wired to the bridge itself (Docker does not count them as
    on the network). Asked of Docker, not of the bridge's ports: a removed sandbox's veth lingers
    while the kernel tears its namespace down."""
    return len(api.containers(filters={"label": [labels.POD_IP]}))


def remove_pod_network(api: DockerAPI, *, name: str = POD_NETWORK) -> bool:
    """Remove the network, and with it its bridge; False if there was none.
    PodNetworkBusy while containers are on it (Docker would refuse too)."""
    existing = _inspect(api, name)
    if existing is None:
        return False
    if on_it := len(existing.get("Containers") or {}):
        raise PodNetworkBusy(f"{on_it} container(s) on network {name}")
    bridge = (existing.get("Options") or {}).get("com.docker.network.bridge.name", POD_BRIDGE)
    if wired := wired_sandboxes(api):
        raise PodNetworkBusy(f"{wired} pod(s) wired to bridge {bridge}")
    api.remove_network(existing["Id"])
    return True
