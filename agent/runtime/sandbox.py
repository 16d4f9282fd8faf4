"""The pod sandbox: one pause container that owns the pod's network and IPC namespaces.

Its network namespace gets the pod's IP from a Docker network (on a node,
the agent's pod network), or is the host's with hostNetwork, or, when the
config carries an IP, is left empty (network_mode=none, no libnetwork work
per pod) for the agent to wire itself (agent/network/veth.py).
App containers join it, so they share localhost, ports, /etc/hosts (with the
pod's hostAliases as Docker's extra hosts) and /etc/resolv.conf; with
shareProcessNamespace they join its PID namespace too, the pause being PID 1. hostPorts are published on the sandbox, since it owns the
network. A sandbox is never restarted: a dead one is replaced by a new
attempt, and the pod's containers with it.
"""
import asyncio
import functools

from agent.runtime import labels
from agent.runtime.containers import LOG_CONFIG, only_set
from agent.runtime.engine import Engine
from agent.runtime.errors import NotFound, RuntimeFailure
from agent.runtime.pause import PAUSE_IMAGE, ensure_pause
from agent.runtime.types import ContainerStatus, DnsConfig, SandboxConfig


class Sandboxes:
    def __init__(self, engine: Engine, *, image: str = PAUSE_IMAGE, network: str = "bridge") -> None:
        self._engine = engine
        self.image = image
        self.network = network   # the Docker network sandboxes join: on a node, the agent's pod network

    async def create(self, config: SandboxConfig) -> str:
        """Create the pause container (start it with Containers.start; inspect it for the IP)."""
        create = functools.partial(
            self._engine.call, self._engine.api.create_container,
            sandbox_body(config, image=self.image, network=self.network),
            name=labels.docker_name(config.pod, labels.SANDBOX_NAME, config.attempt))
        try:
            created = await create()
        except NotFound:   # the pause image is missing: build it once, then every pod finds it
            await ensure_pause(self._engine, self.image)
            created = await create()
        return created["Id"]

    async def write_resolv_conf(self, sandbox: ContainerStatus, dns: DnsConfig) -> None:
        """Give a started sandbox (as inspected after its start) the resolv.conf its DnsConfig says. On a
        user-defined network Docker writes `nameserver 127.0.0.11` (its embedded resolver, which relays to
        ours); rewrite it, as Kubernetes' dockershim did. In place, before any app container starts: they
        bind-mount it."""
        if not sandbox.resolv_conf_path:
            raise RuntimeFailure(f"sandbox {sandbox.id[:12]} has no resolv.conf (not started?)")
        path = sandbox.resolv_conf_path
        text = "".join(f"nameserver {n}\n" for n in dns.nameservers)
        if dns.searches:
            text += f"search {' '.join(dns.searches)}\n"
        if dns.options:
            text += f"options {' '.join(dns.options)}\n"
        await asyncio.to_thread(_write_in_place, path, text)


def _write_in_place(path: str, text: str) -> None:
    with open(path, "r+") as f:   # the same inode: every bind mount of it sees the new text
        f.truncate(0)
        f.write(text)


def sandbox_body(config: SandboxConfig, *, image: str, network: str) -> dict:
    """Docker's container Config for the pause container. hostPorts are exposed (ExposedPorts) and
    published on it (HostConfig.PortBindings: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}, a
    list per port, the host port a string)."""
    dns = config.dns
    ports = {f"{p.container_port}/{p.protocol.lower()}": [{"HostIp": p.host_ip, "HostPort": str(p.host_port)}]
             for p in config.ports}
    host_config = {
        "NetworkMode": "host" if config.host_network else "none" if config.ip else network,
        "IpcMode": "shareable",
        "PortBindings": ports or None,
        "Dns": list(dns.nameservers) if dns and dns.nameservers else None,
        "DnsSearch": list(dns.searches) if dns and dns.searches else None,
        "DnsOptions": list(dns.options) if dns and dns.options else None,
        "Sysctls": {key: str(value) for key, value in config.sysctls} or None,
        "ExtraHosts": [f"{name}:{ip}" for name, ip in config.host_aliases] or None,
        "LogConfig": LOG_CONFIG,
    }
    body = {
        "Image": image,
        "Hostname": None if config.host_network else (config.hostname or None),
        "ExposedPorts": {port: {} for port in ports} or None,
        "Labels": labels.for_sandbox(config),
        "AttachStdout": True, "AttachStderr": True,
        "HostConfig": only_set(host_config),
    }
    return only_set(body)
