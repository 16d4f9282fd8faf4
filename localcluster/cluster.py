"""`up` and `down` of one local cluster: the order of things, the record of them, the clean-up.

`up` records every daemon in the state file (RUN_ROOT/NAME/state.json) as
soon as it exists, and on any failure runs `down` before re-raising, so a
failed `up` leaves nothing behind. `down` works from the state file when
there is one and from the names the cluster's name implies when there is
not, and succeeds whatever it finds: it is safe to run twice, or after a
crash. `up` on a healthy cluster changes nothing; on a broken one (a daemon
died, the machine rebooted) it cleans up and starts afresh.

Blocking: the CLI runs it in a worker thread.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import ipaddress
import json
import os
import re
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
from pyroute2 import netns as pr_netns

from agent.network.podbridge import POD_NETWORK
from controlplane.apiserver import auth
from controlplane.client import Client, load_config
from localcluster import dockerd, hostnet, images, procs
from localcluster.layout import (CLUSTER_CIDR, MAX_NODES, MAX_SERVERS, NODE_SUBNETS, RUN_ROOT, SERVICE_CIDR,
                                 Layout, addresses, preferred_subnets, server_addresses)
from localcluster.procs import Proc

CODE_ROOT = Path(__file__).resolve().parents[1]   # the checkout (or site-packages) these modules came from
AGENT_PORT = 10250
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"   # one of the server's component identities
SERVER_PORT = 6443   # an HA cluster's servers each have an address of their own


@dataclass
class NodeState:
    name: str
    ip: str
    dockerd: Proc | None = None
    agent: Proc | None = None


@dataclass
class ServerState:
    """One server of an HA cluster (--servers N), in a namespace of its own like a node."""
    name: str
    ip: str
    proc: Proc | None = None

    @property
    def address(self) -> str:
        return f"{self.ip}:{SERVER_PORT}"


@dataclass
class ClusterState:
    name: str
    state_dir: str
    subnet: str
    host_ip: str
    port: int = 0
    server: Proc | None = None   # `cox server`: API server, scheduler, and the controllers unless separate
    nodes: list[NodeState] = field(default_factory=list)
    agents: bool = True
    agent_args: list[str] = field(default_factory=list)
    # None: the controllers run inside `cox server`; a list: as `cox controller-manager` with these arguments
    controller_manager_args: list[str] | None = None
    controller_manager: Proc | None = None
    servers: list[ServerState] = field(default_factory=list)   # HA: these instead of `server`
    server_args: list[str] = field(default_factory=list)
    cluster_cidr: str = str(CLUSTER_CIDR)   # pods
    service_cidr: str = str(SERVICE_CIDR)   # ClusterIPs

    @property
    def cidr_args(self) -> list[str]:
        """For `cox server` and `cox agent`, before the caller's arguments (which may still override them)."""
        return ["--cluster-cidr", self.cluster_cidr, "--service-cidr", self.service_cidr]

    @property
    def server_address(self) -> str:
        """Where clients reach the API: host:port, or with several servers all of them, comma-separated."""
        if self.servers:
            return ",".join(s.address for s in self.servers)
        return f"{self.host_ip}:{self.port}"

    def save(self, layout: Layout) -> None:
        layout.run_dir.mkdir(parents=True, exist_ok=True)
        data = {
            "name": self.name, "state_dir": self.state_dir, "subnet": self.subnet, "host_ip": self.host_ip,
            "port": self.port, "agents": self.agents, "agent_args": self.agent_args,
            "controller_manager_args": self.controller_manager_args,
            "server": self.server and self.server.to_json(),
            "controller_manager": self.controller_manager and self.controller_manager.to_json(),
            "nodes": [{"name": n.name, "ip": n.ip, "dockerd": n.dockerd and n.dockerd.to_json(),
                       "agent": n.agent and n.agent.to_json()} for n in self.nodes],
            "servers": [{"name": s.name, "ip": s.ip, "proc": s.proc and s.proc.to_json()} for s in self.servers],
            "server_args": self.server_args, "cluster_cidr": self.cluster_cidr, "service_cidr": self.service_cidr}
        tmp = layout.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(layout.state_file)

    @classmethod
    def load(cls, layout: Layout) -> ClusterState | None:
        try:
            data = json.loads(layout.state_file.read_text())
        except (FileNotFoundError, ValueError):
            return None

        def proc(d):
            return Proc.from_json(d) if d else None
        return cls(name=data["name"], state_dir=data["state_dir"], subnet=data["subnet"], host_ip=data["host_ip"],
                   port=data["port"], agents=data["agents"], agent_args=data.get("agent_args", []),
                   controller_manager_args=data.get("controller_manager_args"),
                   server=proc(data["server"]), controller_manager=proc(data.get("controller_manager")),
                   nodes=[NodeState(n["name"], n["ip"], proc(n["dockerd"]), proc(n["agent"])) for n in data["nodes"]],
                   servers=[ServerState(s["name"], s["ip"], proc(s["proc"])) for s in data.get("servers", [])],
                   server_args=data.get("server_args", []),
                   cluster_cidr=data.get("cluster_cidr", str(CLUSTER_CIDR)),
                   service_cidr=data.get("service_cidr", str(SERVICE_CIDR)))

    @property
    def separate_controller_manager(self) -> bool:
        return self.controller_manager_args is not None

    def daemons(self) -> list[Proc | None]:
        servers = [s.proc for s in self.servers] if self.servers else [self.server]
        return [*servers, *([self.controller_manager] if self.separate_controller_manager else []),
                *(n.dockerd for n in self.nodes),
                *(n.agent for n in self.nodes if self.agents)]

    def healthy(self) -> bool:
        return all(p is not None and procs.alive(p) for p in self.daemons())


@dataclass(frozen=True)
class ClusterInfo:
    name: str
    config: Path
    server: str
    nodes: list[tuple[str, str]]   # (name, InternalIP)
    created: bool                  # False: it was already up


def _layout(name: str, state_dir: Path | None, run_root: Path) -> Layout:
    """The layout, with the state directory the running cluster actually uses when there is one."""
    layout = Layout.of(name, state_dir=state_dir, run_root=run_root)
    state = ClusterState.load(layout)
    if state is not None and state_dir is None:
        layout = Layout.of(name, state_dir=Path(state.state_dir), run_root=run_root)
    return layout


def _require_root() -> None:
    if os.geteuid() != 0:
        raise PermissionError("cox local needs root (network namespaces, bridges, dockerd)")


def up(name: str, *, nodes: int = 3, state_dir: Path | None = None, run_root: Path = RUN_ROOT,
       timeout: float = 180.0, agents: bool = True, agent_args: tuple[str, ...] = (),
       server_args: tuple[str, ...] = (), controller_manager_args: tuple[str, ...] | None = None,
       servers: int = 1, cluster_cidr: str = str(CLUSTER_CIDR), service_cidr: str = str(SERVICE_CIDR)) -> ClusterInfo:
    """Bring the cluster up (or find it up). agents=False stops short of the agents: the machines,
    their dockerds and the control plane, for tests that drive node components themselves.

    server_args go to `cox server` (e.g. --node-monitor-grace-period=20). With controller_manager_args
    (even empty) the controllers run as a `cox controller-manager` process of their own with these
    arguments, and `cox server` with --disable-controller-manager, so they can be stopped and
    restarted alone (start_controller_manager).

    servers > 1: a highly available control plane, each `cox server` on a machine (namespace) of its
    own, the first with --cluster-init, the others joining it, over their embedded etcd; agents and the
    admin's config (layout.ha_admin_config) name them all.

    cluster_cidr (pods) and service_cidr (ClusterIPs) go to every server and agent (and the separate
    controller manager); the defaults are in the benchmarking range, apart from the machines' /24s."""
    if not 1 <= nodes <= MAX_NODES:
        raise ValueError(f"--nodes: between 1 and {MAX_NODES}")
    if not 1 <= servers <= MAX_SERVERS:
        raise ValueError(f"--servers: between 1 and {MAX_SERVERS}")
    if servers > 1 and controller_manager_args is not None:
        raise ValueError("--controller-manager-arg: not with --servers (each server runs its controllers)")
    _check_cidrs(cluster_cidr=cluster_cidr, service_cidr=service_cidr)
    _require_root()
    layout = _layout(name, state_dir, run_root)
    state = ClusterState.load(layout)
    if state is not None and state.healthy() and state.agents == agents:
        if len(state.nodes) != nodes or len(state.servers or [state.server]) != servers:
            raise RuntimeError(f"cluster {name} is up with {len(state.nodes)} nodes and "
                               f"{len(state.servers or [state.server])} server(s); "
                               f"`cox local down --name {name}` first to change that")
        return _info(layout, state, created=False)
    down(name, state_dir=layout.state_dir, run_root=run_root)   # leftovers of a broken or half-made one
    try:
        state = _create(layout, nodes, timeout=timeout, agents=agents, agent_args=agent_args,
                        server_args=server_args, controller_manager_args=controller_manager_args, servers=servers,
                        cluster_cidr=cluster_cidr, service_cidr=service_cidr)
    except BaseException:
        down(name, state_dir=layout.state_dir, run_root=run_root)
        raise
    return _info(layout, state, created=True)


def _check_cidrs(*, cluster_cidr: str, service_cidr: str) -> None:
    """Both valid IPv4 networks, apart from each other and from the machines' range."""
    nets = {}
    for flag, text in (("--cluster-cidr", cluster_cidr), ("--service-cidr", service_cidr)):
        try:
            nets[flag] = ipaddress.IPv4Network(text)
        except ValueError as e:
            raise ValueError(f"{flag}: {e}") from None
        if nets[flag].overlaps(NODE_SUBNETS):
            raise ValueError(f"{flag}: {text} overlaps the machines' addresses ({NODE_SUBNETS})")
    if nets["--cluster-cidr"].overlaps(nets["--service-cidr"]):
        raise ValueError(f"--service-cidr: {service_cidr} overlaps --cluster-cidr {cluster_cidr}")


def admin_config(layout: Layout, state: ClusterState) -> Path:
    return layout.ha_admin_config if state.servers else layout.admin_config


def _info(layout: Layout, state: ClusterState, *, created: bool) -> ClusterInfo:
    return ClusterInfo(name=layout.name, config=admin_config(layout, state), server=state.server_address,
                       nodes=[(n.name, n.ip) for n in state.nodes], created=created)


def _free_subnet(name: str) -> ipaddress.IPv4Network:
    used = hostnet.used_networks()
    for subnet in preferred_subnets(name):
        if not any(subnet.overlaps(u) for u in used):
            return subnet
    raise RuntimeError(f"no free /24 left in {NODE_SUBNETS} for the nodes")


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _env() -> dict:
    """This checkout's code for every process we start, whatever the caller's PYTHONPATH."""
    return dict(os.environ, PYTHONPATH=str(CODE_ROOT))


def _create(layout: Layout, count: int, *, timeout: float, agents: bool, agent_args: tuple[str, ...],
            server_args: tuple[str, ...], controller_manager_args: tuple[str, ...] | None,
            servers: int, cluster_cidr: str, service_cidr: str) -> ClusterState:
    deadline = time.monotonic() + timeout
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    subnet = _free_subnet(layout.name)
    host_ip, node_ips = addresses(subnet, count)
    state = ClusterState(name=layout.name, state_dir=str(layout.state_dir), subnet=str(subnet), host_ip=host_ip,
                         nodes=[NodeState(layout.node_name(i + 1), ip) for i, ip in enumerate(node_ips)],
                         agents=agents, agent_args=list(agent_args),
                         controller_manager_args=None if controller_manager_args is None
                         else list(controller_manager_args),
                         servers=[ServerState(layout.server_name(i + 1), ip) for i, ip
                                  in enumerate(server_addresses(subnet, servers))] if servers > 1 else [],
                         cluster_cidr=cluster_cidr, service_cidr=service_cidr)
    state.save(layout)
    if state.separate_controller_manager:
        server_args = ("--disable-controller-manager", *server_args)

    hostnet.create_switch(layout, host_ip=host_ip, prefixlen=subnet.prefixlen)
    for machine in [*state.nodes, *state.servers]:
        hostnet.create_node(layout, machine.name, address=machine.ip, prefixlen=subnet.prefixlen)

    state.server_args = list(server_args)
    if not state.servers:
        state.port = _free_port(host_ip)
        state.server = procs.spawn(
            [sys.executable, "-m", "controlplane.cli", "server", "--data-dir", str(layout.server_dir),
             "--listen", state.server_address, "--tls-san", host_ip, "--no-user-config", *state.cidr_args,
             *server_args],
            log_path=layout.log_path("server"), env=_env())
        state.save(layout)
    for node in state.nodes:
        node.dockerd = dockerd.start(layout, node.name)
        state.save(layout)
    if state.servers:
        for server in state.servers:   # one after the other: each joins those before it
            start_server(layout, state, server.name)
            _wait_server(layout, state, deadline, server=server)
        _write_ha_admin_config(layout, state)
    else:
        _wait_server(layout, state, deadline)
    if state.separate_controller_manager:
        start_controller_manager(layout, state)
    for node in state.nodes:
        dockerd.wait_ready(layout, node.name, node.dockerd, timeout=max(1.0, deadline - time.monotonic()))
    _load_images(layout, state)
    if not agents:
        return state

    for node in state.nodes:
        start_agent(layout, state, node.name)
    asyncio.run(_wait_nodes(layout, state, deadline))
    return state


def start_agent(layout: Layout, state: ClusterState, node_name: str) -> Proc:
    """Start the node's `cox agent` (again, after it was stopped: its node and data are kept); recorded."""
    node = next(n for n in state.nodes if n.name == node_name)
    node.agent = procs.spawn(  # the token by file: a command line is any local user's to read (ps)
        [sys.executable, "-m", "agent.cli", "agent", "--server", state.server_address,
         "--token-file", str(layout.server_dir / "node-token"),
         "--node-name", node.name, "--node-ip", node.ip, "--listen", f"{node.ip}:{AGENT_PORT}",
         "--docker-url", layout.docker_url(node.name), "--root-dir", str(layout.node_dir(node.name) / "agent"),
         *state.cidr_args, *state.agent_args],
        log_path=layout.log_path(f"{node.name}-agent"), env=_env(), netns=layout.node_netns(node.name))
    state.save(layout)
    return node.agent


def start_server(layout: Layout, state: ClusterState, server_name: str) -> Proc:
    """Start an HA cluster's server (again, after it was killed: it keeps its data and etcd member); recorded.

    The first starts the cluster's embedded etcd; the others join it with the server token, through
    whichever server is first in the list (a restarted one has its files and needs no join)."""
    server = next(s for s in state.servers if s.name == server_name)
    data_dir = layout.server_data_dir(server.name)
    first = state.servers[0]
    join = (["--cluster-init"] if server is first else
            ["--server", f"https://{first.address}", "--token-file", str(layout.server_dir / "server-token")])
    server.proc = procs.spawn(
        [sys.executable, "-m", "controlplane.cli", "server", "--data-dir", str(data_dir),
         "--listen", server.address, "--advertise-address", server.ip, "--tls-san", server.ip,
         "--no-user-config", *join, *state.cidr_args, *state.server_args],
        log_path=layout.log_path(server.name), env=_env(), netns=layout.node_netns(server.name))
    state.save(layout)
    return server.proc


def _write_ha_admin_config(layout: Layout, state: ClusterState) -> None:
    first = load_config(layout.admin_config)
    dataclasses.replace(first, server=state.server_address).write(layout.ha_admin_config)


def start_controller_manager(layout: Layout, state: ClusterState) -> Proc:
    """Start the separate `cox controller-manager` (again), as system:kube-controller-manager; recorded."""
    config = layout.server_dir / "controller-manager.yaml"
    if not config.exists():
        token = auth.TokenFile(layout.server_dir / "tokens").token_for(CONTROLLER_MANAGER_USER)
        dataclasses.replace(load_config(layout.admin_config), token=token).write(config)
    state.controller_manager = procs.spawn(
        [sys.executable, "-m", "controlplane.cli", "--config", str(config), "controller-manager",
         "--cluster-cidr", state.cluster_cidr, *state.controller_manager_args],
        log_path=layout.log_path("controller-manager"), env=_env())
    state.save(layout)
    return state.controller_manager


def _wait_server(layout: Layout, state: ClusterState, deadline: float, *, server: ServerState | None = None) -> None:
    """Up: its admin config and node token written, its port open (`server`: that one of an HA cluster)."""
    data_dir, proc, log = layout.server_dir, state.server, "server"
    host, port = state.host_ip, state.port
    if server is not None:
        data_dir, proc, log, host, port = (layout.server_data_dir(server.name), server.proc, server.name,
                                           server.ip, SERVER_PORT)
    while not ((data_dir / "admin.yaml").exists() and (data_dir / "node-token").exists() and _port_open(host, port)):
        if not procs.alive(proc):
            raise RuntimeError(f"cox server exited: {_tail(layout.log_path(log))}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"cox server not up: {_tail(layout.log_path(log))}")
        time.sleep(0.05)


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def _load_images(layout: Layout, state: ClusterState) -> None:
    first, rest = state.nodes[0].name, [n.name for n in state.nodes[1:]]
    names = images.build(layout.docker_url(first))
    clients = [docker.APIClient(layout.docker_url(n), version="auto", timeout=120) for n in [first, *rest]]
    try:
        images.copy(clients[0], clients[1:], names)
    finally:
        for c in clients:
            c.close()


async def _wait_nodes(layout: Layout, state: ClusterState, deadline: float) -> None:
    """Every node registered, Ready, with a podCIDR, and its pod network made by its agent."""
    waiting = {n.name for n in state.nodes}
    async with Client(load_config(admin_config(layout, state)), timeout=10) as client:
        while waiting:
            _check_alive(layout, state)
            listing = await client.resource("Node").list()
            for obj in listing.items:
                ready = any(c.type == "Ready" and c.status == "True" for c in obj.status.conditions)
                if obj.metadata.name in waiting and ready and obj.spec.pod_cidr \
                        and await asyncio.to_thread(_has_pod_network, layout, obj.metadata.name):
                    waiting.discard(obj.metadata.name)
            if waiting and time.monotonic() > deadline:
                raise TimeoutError(f"nodes not ready (Ready, podCIDR, pod network): {', '.join(sorted(waiting))}; "
                                   f"see {layout.log_path('<node>-agent')}")
            if waiting:
                await asyncio.sleep(0.2)


def _check_alive(layout: Layout, state: ClusterState) -> None:
    """Fail at once, with its log's end, when a process the nodes need has exited (a bad flag, a crash)."""
    servers = [(f"{s.name}: cox server", s.name, s.proc) for s in state.servers] or [
        ("cox server", "server", state.server)]
    needed = [*servers,
              *([("cox controller-manager", "controller-manager", state.controller_manager)]
                if state.separate_controller_manager else []),
              *((f"{n.name}: cox agent", f"{n.name}-agent", n.agent) for n in state.nodes)]
    for what, log, proc in needed:
        if not procs.alive(proc):
            raise RuntimeError(f"{what} exited: {_tail(layout.log_path(log))}")


def _has_pod_network(layout: Layout, node: str) -> bool:
    with docker.APIClient(layout.docker_url(node), timeout=10) as api:
        return bool(api.networks(names=[POD_NETWORK]))


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"(no log at {path})"


def down(name: str, *, state_dir: Path | None = None, run_root: Path = RUN_ROOT) -> bool:
    """Remove the cluster and everything it made; False if there was nothing to remove."""
    _require_root()
    layout = _layout(name, state_dir, run_root)
    state = ClusterState.load(layout)
    node_names = {n.name for n in state.nodes} if state else set()
    server_names = {s.name for s in state.servers} if state else set()
    node_pattern = re.compile(rf"^{re.escape(layout.prefix)}(node\d+)$")
    server_pattern = re.compile(rf"^{re.escape(layout.prefix)}(server\d+)$")
    for netns in pr_netns.listnetns():
        if match := node_pattern.match(netns):
            node_names.add(match.group(1))
        elif match := server_pattern.match(netns):
            server_names.add(match.group(1))
    found = bool(state or node_names or server_names or layout.switch_netns in pr_netns.listnetns()
                 or layout.run_dir.exists() or layout.state_dir.exists())
    by_name = {n.name: n for n in state.nodes} if state else {}

    for node in by_name.values():   # agents first: they would only recreate what is being removed
        if node.agent:
            procs.stop(node.agent, grace=10)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(node_names))) as pool:
        list(pool.map(lambda n: dockerd.stop(layout, n, by_name[n].dockerd if n in by_name else None),
                      sorted(node_names)))
    for proc in (state.controller_manager, state.server, *(s.proc for s in state.servers)) if state else ():
        if proc:
            procs.stop(proc, grace=10)
    for server in sorted(server_names):   # what outlived its server (its etcd, were it not to die with it)
        procs.kill_all(hostnet.netns_pids(layout.node_netns(server)))
    for machine in sorted(node_names | server_names):
        hostnet.remove_netns(layout.node_netns(machine))
    hostnet.remove_netns(layout.switch_netns)
    hostnet.remove_host_link(layout)
    shutil.rmtree(layout.run_dir, ignore_errors=True)
    for path in [layout.server_dir, layout.log_path("x").parent, layout.ha_admin_config,
                 *(layout.node_dir(n) for n in node_names | server_names)]:
        shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):   # only if nothing of anyone else's is in it
        layout.state_dir.rmdir()
    return found


def clusters(run_root: Path = RUN_ROOT) -> list[tuple[str, ClusterState | None]]:
    """The clusters with a state file, each with its state."""
    if not run_root.is_dir():
        return []
    return [(d.name, ClusterState.load(Layout.of(d.name, run_root=run_root)))
            for d in sorted(run_root.iterdir()) if d.is_dir() and (d / "state.json").exists()]
