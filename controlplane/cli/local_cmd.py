"""`cox local up|down|list`: a multi-node cluster on this machine (localcluster/), like kind.

    cox local up --nodes 3            # control plane + 3 nodes, each a network namespace with its own dockerd
    cox --config /var/lib/cox/local/local/server/admin.yaml get nodes
    cox local down

The localcluster package (which brings in the agent's code) is imported only
when one of these commands runs, so the rest of `cox` never loads it.
"""
import argparse
import asyncio
from pathlib import Path

from controlplane.cli.common import CommandError

DEFAULT_NAME = "local"


def register(sub) -> None:
    p = sub.add_parser("local", help="a local multi-node cluster (network namespaces, one dockerd each)")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    up = verbs.add_parser("up", help="create the cluster, or do nothing if it is up")
    _common(up)
    up.add_argument("--nodes", type=int, default=3, help="how many nodes (default 3)")
    up.add_argument("--servers", type=int, default=1,
                    help="how many servers (default 1, in the host's namespace); more: a highly available "
                         "control plane, each server in a namespace of its own over their embedded etcd")
    up.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the nodes (default 180)")
    up.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                    help="an argument for `cox server`, joined by '=' as it starts with '--': "
                         "--server-arg=--node-monitor-grace-period=20 (repeatable)")
    up.add_argument("--controller-manager-arg", action="append", default=None, metavar="ARG",
                    help="run the controllers as a `cox controller-manager` process of their own (which can "
                         "be stopped alone), with this argument: --controller-manager-arg=--leader-elect-"
                         "lease-duration=8 (repeatable; --controller-manager-arg= for none)")
    up.add_argument("--cluster-cidr", default=None, metavar="CIDR",
                    help="pod addresses, a /24 per node, for the servers and agents (default 198.19.0.0/17)")
    up.add_argument("--service-cidr", default=None, metavar="CIDR",
                    help="ClusterIPs, for the servers and agents (default 198.19.128.0/20)")
    up.set_defaults(func=run_up)
    down = verbs.add_parser("down", help="remove the cluster and all it made")
    _common(down)
    down.set_defaults(func=run_down)
    listing = verbs.add_parser("list", help="the local clusters and their state")
    listing.set_defaults(func=run_list)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", default=DEFAULT_NAME, help=f"cluster name (default {DEFAULT_NAME!r})")
    p.add_argument("--state-dir", type=Path, default=None,
                   help="server data and node data roots (default /var/lib/cox/local/NAME)")


async def run_up(args) -> int:
    from localcluster import cluster
    try:
        given = {"cluster_cidr": args.cluster_cidr, "service_cidr": args.service_cidr}
        cidrs = {key: value for key, value in given.items() if value is not None}
        cm_args = None if args.controller_manager_arg is None else tuple(filter(None, args.controller_manager_arg))
        info = await asyncio.to_thread(cluster.up, args.name, nodes=args.nodes, state_dir=args.state_dir,
                                       timeout=args.timeout, server_args=tuple(args.server_arg),
                                       controller_manager_args=cm_args, servers=args.servers, **cidrs)
    except (ValueError, RuntimeError, OSError) as e:   # TimeoutError and PermissionError are OSErrors
        raise CommandError(f"cox local up: {e}") from None
    print(f"cluster {info.name} {'is up' if info.created else 'was already up'}: API server {info.server}, "
          f"{len(info.nodes)} node(s)")
    for node, ip in info.nodes:
        print(f"  {node}  {ip}")
    print(f"\n  export COX_CONFIG={info.config}\n  cox get nodes\n\n"
          f"  cox local down{'' if info.name == DEFAULT_NAME else f' --name {info.name}'}   # when done")
    return 0


async def run_down(args) -> int:
    from localcluster import cluster
    try:
        found = await asyncio.to_thread(cluster.down, args.name, state_dir=args.state_dir)
    except (ValueError, OSError) as e:
        raise CommandError(f"cox local down: {e}") from None
    print(f"cluster {args.name} {'removed' if found else 'not found: nothing to remove'}")
    return 0


async def run_list(args) -> int:
    from localcluster import cluster
    rows = await asyncio.to_thread(cluster.clusters)
    if not rows:
        print("no local clusters")
    for name, state in rows:
        if state is None:
            print(f"{name}\tunreadable state")
            continue
        health = "up" if state.healthy() else "broken (run `cox local up` to recreate, or down)"
        print(f"{name}\t{len(state.nodes)} node(s)\t{state.server_address}\t{health}")
    return 0
