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
from agent.runtime.containers import LOG_CONFIG
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
        api = self._engine.api
        dns = config.dns
        ports = {f"{p.container_port}/{p.protocol.lower()}": (p.host_ip, p.host_port) if p.host_ip else p.host_port
                 for p in config.ports}
        host_config = api.create_host_config(
            network_mode="host" if config.host_network else "none" if config.ip else self.network,
            ipc_mode="shareable",
            port_bindings=ports or None,
            dns=list(dns.nameservers) if dns and dns.nameservers else None,
            dns_search=list(dns.searches) if dns and dns.searches else None,
            dns_opt=list(dns.options) if dns and dns.options else None,
            sysctls=dict(config.sysctls) or None,
            extra_hosts=[f"{name}:{ip}" for name, ip in config.host_aliases] or None,
            log_config=LOG_CONFIG,
        )
        create = functools.partial(
            self._engine.call, api.create_container,
            image=self.image,
            hostname=None if config.host_network else (config.hostname or None),
            ports=[(p.container_port, p.protocol.lower()) for p in config.ports] or None,
            labels=labels.for_sandbox(config),
            name=labels.docker_name(config.pod, labels.SANDBOX_NAME, config.attempt),
            host_config=host_config,
        )
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
