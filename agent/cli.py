"""`cox agent`: the node agent (kubelet) of one node.

    cox agent --server 10.0.0.1:6443 --token-file node-token    # join a cluster
    cox agent --pod-manifest-path /etc/cox/manifests           # static pods only, no API server
    cox agent --cleanup [--cleanup-pods]                       # remove what an agent made here

Joined to a cluster, the agent runs the node's networking beside the
kubelet: the Service proxy (agent/proxy), the pod network (agent/network)
and cluster DNS (agent/dns). Each can be left out, as k3s' agent can leave
out kube-proxy and flannel: --disable-proxy, --disable-pod-network (pods then
join Docker's default bridge, as with static pods only), --disable-cluster-dns.
--cleanup removes what they made in this network namespace, as kube-proxy's
--cleanup does; each room's cleanup() knows its own names.

Joining needs only the server address and the join token (client/join.py),
which only lets the agent ask for a credential of the node's own
(kubelet/credential.py): user system:node:<name>, kept at
<root-dir>/kubelet.yaml and renewed before it expires. Both are kept in the
agent's root directory, so an agent that restarts while the API server is
down still knows how to reach it later and, meanwhile, keeps its pods running.

`cox` registers this module (controlplane/cli/agent_cmd.py), and
`python -m agent.cli` runs it on its own. Registering must stay cheap, as it
happens for every `cox` command: what only running the agent needs (Docker,
pyroute2, dnslib) is imported in run().
"""
import argparse
import asyncio
import logging
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

from agent import malloc
from agent.kubelet import credential, nodeinfo
from agent.kubelet.config import KubeletConfig
from agent.network.model import DEFAULT_CLUSTER_CIDR
from controlplane.client import Client, ClientConfig, InformerFactory, load_config, targets
from controlplane.client.errors import ApiError
from controlplane.client.join import join_config
from controlplane.metrics import flag as metrics_flag

log = logging.getLogger(__name__)

CLIENT_CONFIG = "client.yaml"


def register(sub) -> None:
    p = sub.add_parser("agent", help="run the node agent (kubelet) on this host")
    p.add_argument("--server", default="", help="API server address host:port (https:// optional), or several "
                                                "comma-separated: the agent uses another when its server is gone")
    p.add_argument("--token", default=os.environ.get("COX_TOKEN", ""),
                   help="the cluster's node join token (K10...::node:...); prefer $COX_TOKEN or --token-file, "
                        "which keep it out of ps")
    p.add_argument("--token-file", type=Path, default=None,
                   help="a file holding the join token (e.g. the server's DATA/node-token)")
    p.add_argument("--config", type=Path, default=None,
                   help="a client config file to use instead of --server/--token")
    defaults = KubeletConfig()
    p.add_argument("--node-name", default=defaults.node_name, help="this node's name (default: hostname)")
    p.add_argument("--docker-url", type=_docker_url, default=defaults.docker_url,
                   help=f"Docker Engine: unix:///path or tcp://host:port (default {defaults.docker_url})")
    p.add_argument("--root-dir", type=Path, default=defaults.root_dir,
                   help=f"pod volumes and agent state (default {defaults.root_dir})")
    p.add_argument("--pod-manifest-path", type=Path, default=None, help="directory of static pod manifests")
    p.add_argument("--node-ip", default="", help="this node's InternalIP (default: the default route's source)")
    p.add_argument("--node-labels", default="", help="extra labels: key=value,key2=value2")
    p.add_argument("--register-with-taints", default="", help="taints at registration: key=value:Effect,...")
    p.add_argument("--register-node", action=argparse.BooleanOptionalAction, default=True,
                   help="create this node's Node object (default on)")
    p.add_argument("--cluster-dns", default="", help="cluster DNS server IPs for pods, comma separated")
    p.add_argument("--cluster-domain", default=defaults.cluster_domain)
    p.add_argument("--cluster-cidr", default=DEFAULT_CLUSTER_CIDR,
                   help=f"pod addresses of the whole cluster (default {DEFAULT_CLUSTER_CIDR}; as the controller manager's)")
    p.add_argument("--service-cidr", default="10.96.0.0/12", help="ClusterIP range (default 10.96.0.0/12)")
    p.add_argument("--max-pods", type=int, default=defaults.max_pods)
    p.add_argument("--node-lease-duration-seconds", type=int, default=defaults.lease_duration_seconds,
                   help="the node's Lease duration; the agent renews it every quarter of that "
                        f"(default {defaults.lease_duration_seconds}, so every "
                        f"{defaults.lease_duration_seconds / 4:g} s)")
    p.add_argument("--listen", default=defaults.listen, help="the agent's own endpoint (logs, exec)")
    metrics_flag.add_flag(p, default=metrics_flag.AGENT_DEFAULT)
    p.add_argument("--resource-usage-period", type=float, default=15.0, metavar="SECONDS",
                   help="how often the node's and its pods' CPU and memory are measured and reported as "
                        "NodeMetrics and PodMetrics, for `cox top` and autoscaling (default 15; 0: never)")
    parts = p.add_argument_group("node networking (with an API server; each part can be left out)")
    parts.add_argument("--disable-proxy", action="store_true",
                       help="no Service proxy: no nft table, no route for --service-cidr; "
                            "ClusterIPs and NodePorts do not work on this node")
    parts.add_argument("--disable-pod-network", action="store_true",
                       help="no pod network: pods join Docker's default bridge instead of the node's podCIDR, "
                            "no routes to other nodes' pods, no masquerade table, no DOCKER-USER rules")
    parts.add_argument("--disable-cluster-dns", action="store_true",
                       help="no cluster DNS on 169.254.20.10: pods use --cluster-dns if given, "
                            "else the node's resolvers")
    clean = p.add_argument_group("clean-up (stop the agent first)")
    clean.add_argument("--cleanup", action="store_true",
                       help="remove what the agent made in this network namespace and exit: the proxy's table "
                            "(of --node-name), the masquerade table, the Service sink and DNS links, routes to "
                            "other nodes' pods, the DOCKER-USER rules, and the pod network in Docker (--docker-url) "
                            "if no container is on it. Pods keep running")
    clean.add_argument("--cleanup-pods", action="store_true",
                       help="with --cleanup, first: also remove every pod container from --docker-url and the "
                            "pods' directories and volume mounts under --root-dir (so the pod network goes too)")
    p.set_defaults(func=run)


def _pairs(text: str) -> dict[str, str]:
    pairs = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f'error: --node-labels: "{item}" is not key=value')
        pairs[key] = value
    return pairs


def kubelet_config(args) -> KubeletConfig:
    taints = tuple(filter(None, (t.strip() for t in args.register_with_taints.split(","))))
    for taint in taints:
        try:
            nodeinfo.parse_taint(taint)
        except ValueError as e:
            raise SystemExit(f"error: --register-with-taints: {e}") from None
    if args.node_lease_duration_seconds < 4:
        raise SystemExit("error: --node-lease-duration-seconds: must be at least 4")
    return KubeletConfig(
        lease_duration_seconds=args.node_lease_duration_seconds,
        heartbeat_seconds=args.node_lease_duration_seconds / 4,
        node_name=args.node_name, docker_url=args.docker_url, root_dir=args.root_dir,
        pod_manifest_path=args.pod_manifest_path, node_ip=args.node_ip, node_labels=_pairs(args.node_labels),
        register_node=args.register_node, register_with_taints=taints,
        cluster_dns=tuple(filter(None, args.cluster_dns.split(","))), cluster_domain=args.cluster_domain,
        max_pods=args.max_pods, listen=args.listen)


async def client_config(args, root: Path) -> ClientConfig | None:
    """The API server to use: --config as it is, else the node's own credential (agent/kubelet/credential.py)."""
    if args.config:
        return load_config(args.config)
    if not args.server:
        return None
    server = ",".join(targets.split(args.server))   # several: the agent moves on when its server is gone
    try:
        return await credential.node_config(root, args.node_name, lambda: join(args, root, server), server=server)
    except ApiError as e:
        raise SystemExit(f"error: node {args.node_name} could not get a credential of its own: {e.message}") from None


async def join(args, root: Path, server: str) -> ClientConfig:
    """The join token's client config, which can only ask for a node credential.

    Kept in the root directory, so that an agent can bootstrap again (its
    credential revoked, or expired while it was down) with no token given.
    """
    token = _join_token(args)
    saved = root / CLIENT_CONFIG
    if saved.exists():
        config = load_config(saved)
        if config.server == server and (not token or token.endswith(f"::node:{config.token}")):
            return config
    if not token:
        raise SystemExit("error: --token-file (or $COX_TOKEN) is required to join "
                         "(the join token from the server's data directory)")
    config = await asyncio.to_thread(join_config, server, token)
    config.write(saved)
    return config


def _docker_url(text: str) -> str:
    from agent.runtime.dockerhttp import parse_url   # the runtime package only when an agent runs
    try:
        parse_url(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def _join_token(args) -> str:
    """The join token: from --token-file, else $COX_TOKEN or --token (which `ps` shows to every local user)."""
    if args.token_file is None:
        if args.token and args.token != os.environ.get("COX_TOKEN"):
            log.warning("the join token is on the command line, where any local user sees it: "
                        "use --token-file or $COX_TOKEN")
        return args.token
    try:
        token = args.token_file.read_text().strip()
    except (OSError, UnicodeDecodeError) as e:
        raise SystemExit(f"error: --token-file {args.token_file}: {getattr(e, 'strerror', None) or e}") from None
    if not token:
        raise SystemExit(f"error: --token-file {args.token_file}: the file is empty")
    return token


async def run(args) -> int:
    if args.cleanup:
        return await cleanup(args)
    if args.cleanup_pods:
        raise SystemExit("error: --cleanup-pods goes with --cleanup")
    # The node networking parts are imported only when they run: pyroute2 alone is ~5 MB resident.
    from agent.kubelet.kubelet import Kubelet
    from agent.kubelet.volumes import private_directory
    from agent.runtime import Runtime
    from agent.runtime.errors import RuntimeFailure
    from controlplane.metrics import endpoint
    malloc.fewer_arenas()
    config = kubelet_config(args)
    private_directory(config.root_dir)  # its node credential and every pod's secrets are below it
    if not config.node_ip:
        # pyroute2's synchronous IPRoute runs an event loop of its own: keep it off ours.
        config = replace(config, node_ip=await asyncio.to_thread(nodeinfo.default_ip))
    client_cfg = await client_config(args, config.root_dir)
    if client_cfg is None and config.pod_manifest_path is None:
        raise SystemExit("error: give --server and --token to join a cluster, or --pod-manifest-path")
    client = Client(client_cfg) if client_cfg else None
    node_parts: dict[str, asyncio.Task] = {}   # pod network, proxy, cluster DNS: only with an API server to watch
    programmed = None  # the proxy's record of what it programmed when: only with the proxy
    network = None
    renewal = None     # the node's own credential, renewed before it expires (not for a --config identity)
    if client is not None and not args.config:
        server = client_cfg.server
        renewer = credential.Renewer(client, root=config.root_dir, node_name=config.node_name,
                                     bootstrap=lambda: join(args, config.root_dir, server))
        renewal = asyncio.create_task(renewer.run(), name="credential-renewal")
    if client is not None:
        factory = InformerFactory(client)
        if not args.disable_pod_network:
            from agent.network.controller import PodNetwork
            from agent.network.ipam import DIRECTORY as ADDRESSES
            network = PodNetwork(client=client, node_name=config.node_name, docker_url=config.docker_url,
                                 cluster_cidr=args.cluster_cidr, factory=factory,
                                 address_dir=config.root_dir / ADDRESSES)
            node_parts["pod network"] = asyncio.create_task(network.run(), name="pod-network")
        if not args.disable_proxy:
            from agent.proxy.controller import run_proxy
            from agent.proxy.programmed import ProgrammedRecord
            programmed = ProgrammedRecord()   # what it programmed when, answered by the agent's server
            node_parts["proxy"] = asyncio.create_task(
                run_proxy(client=client, node_name=config.node_name, service_cidr=args.service_cidr,
                          factory=factory, programmed=programmed), name="proxy")
        if not args.disable_cluster_dns:
            from agent.dns.controller import run_dns
            from agent.dns.listen import DEFAULT_ADDRESS as DNS_ADDRESS
            if not config.cluster_dns:
                config = replace(config, cluster_dns=(DNS_ADDRESS,))
            node_parts["cluster DNS"] = asyncio.create_task(
                run_dns(client=client, domain=config.cluster_domain, factory=factory), name="cluster-dns")
    try:
        runtime = await Runtime.connect(config.docker_url, pod_network=network.network_name if network else "bridge")
    except RuntimeFailure as e:
        raise SystemExit(f"error: {e} (is dockerd running?)") from None
    try:   # once the arguments and the credentials have been found good
        metrics = await endpoint.start(args.metrics_bind_address, default=metrics_flag.AGENT_DEFAULT)
    except ValueError as e:
        raise SystemExit(f"error: {e}") from None
    kubelet = Kubelet(config, runtime, client, host_ip=config.node_ip,
                      network_ready=network.ready.is_set if network else (lambda: True), network=network,
                      proxy_programmed=programmed)
    await kubelet.start()
    usage = None       # NodeMetrics and PodMetrics: only with an API server to report to
    if client is not None and args.resource_usage_period > 0:
        from agent.kubelet.usagereporter import UsageReporter
        reporter = UsageReporter(client, runtime, kubelet.ctx.cache, node_name=config.node_name,
                                 period=args.resource_usage_period, pod_labels=kubelet.pod_labels)
        usage = asyncio.create_task(reporter.run(), name="resource-usage")
    print(f"cox agent: node {config.node_name} ({config.node_ip}), docker {config.docker_url}"
          + (f", API server {client_cfg.server}; {', '.join(node_parts) or 'no node networking'}"
             if client_cfg else ", static pods only"), flush=True)
    trimming = asyncio.create_task(malloc.trim_periodically(), name="malloc-trim")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    background = [*node_parts.values(), *(task for task in (renewal, usage) if task), trimming]
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    await kubelet.stop()        # pods keep running; a new agent adopts them
    if client is not None:
        await client.close()
    runtime.close()
    if metrics is not None:
        await metrics.stop()
    return 0


async def cleanup(args) -> int:
    """`cox agent --cleanup`: each room undoes what it made here, one line per object.
    A room that fails does not stop the others; the exit code says so."""
    from agent.dns.controller import cleanup as dns_cleanup
    from agent.kubelet.cleanup import cleanup as pods_cleanup
    from agent.network.controller import cleanup as network_cleanup
    from agent.network.controller import cleanup_docker_network
    from agent.proxy.controller import cleanup as proxy_cleanup
    from agent.runtime import Runtime

    async def remove_pods() -> list[str]:
        runtime = await Runtime.connect(args.docker_url)
        try:
            return await pods_cleanup(runtime, root_dir=args.root_dir)
        finally:
            runtime.close()

    steps = [("pods", remove_pods)] if args.cleanup_pods else []   # first: the pod network goes once they have
    steps += [("proxy", lambda: asyncio.to_thread(proxy_cleanup, node_name=args.node_name)),
              ("pod network", lambda: asyncio.to_thread(network_cleanup)),
              ("pod network in Docker", lambda: asyncio.to_thread(cleanup_docker_network,
                                                                   docker_url=args.docker_url)),
              ("cluster DNS", lambda: asyncio.to_thread(dns_cleanup))]
    failed = False
    for what, step in steps:
        try:
            done = await step()
        except Exception as e:
            print(f"cox agent --cleanup: {what}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            failed = True
            continue
        for line in done:
            print(line, flush=True)
        if not done:
            print(f"{what}: nothing to remove", flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="cox")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    raise SystemExit(asyncio.run(args.func(args)))


if __name__ == "__main__":
    main()
