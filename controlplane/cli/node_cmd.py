"""`cox cordon|uncordon|drain NODE`: take a node out of scheduling, put it back, empty it.

drain = cordon, then evict every pod on the node (pods/eviction: a pod whose
PodDisruptionBudget allows no disruption now is retried every few seconds,
as kubectl does) and wait until they are gone. As kubectl does, it refuses pods that no controller would
recreate unless --force, refuses DaemonSet pods (their controller would put
them right back, cordoned or not) unless --ignore-daemonsets, which leaves
them running, and leaves mirror pods (static pods) alone.
"""
import asyncio
import sys
import time

import grpc

from controlplane.cli import common, durations
from controlplane.client import Client, errors

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
_TERMINAL = ("Succeeded", "Failed")
EVICTION_RETRY_SECONDS = 5.0


def register(sub) -> None:
    for name, help_text, func in (("cordon", "mark a node unschedulable", cordon),
                                  ("uncordon", "mark a node schedulable", uncordon),
                                  ("drain", "cordon a node and evict its pods", drain)):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("node")
        common.add_config_option(p)
        if name == "drain":
            p.add_argument("--force", action="store_true",
                           help="also delete pods that no controller manages (they will not come back)")
            p.add_argument("--ignore-daemonsets", action="store_true",
                           help="leave DaemonSet-managed pods running (without it, drain refuses them)")
            p.add_argument("--grace-period", type=int, default=-1,
                           help="seconds each pod gets to stop (default: the pod's own)")
            p.add_argument("--timeout", type=durations.seconds, default=0, metavar="DURATION",
                           help="give up after this long: 90s, 5m (default: wait for ever)")
        p.set_defaults(func=func)


async def cordon(args) -> int:
    async with common.connect(args) as client:
        print(await set_unschedulable(client, args.node, True), flush=True)
    return 0


async def uncordon(args) -> int:
    async with common.connect(args) as client:
        print(await set_unschedulable(client, args.node, False), flush=True)
    return 0


async def drain(args) -> int:
    async with common.connect(args) as client:
        print(await set_unschedulable(client, args.node, True), flush=True)
        pods = client.resource("Pod")
        listing = await pods.list(field_selector=f"spec.nodeName={args.node}")
        doomed = [p for p in listing.items
                  if MIRROR_ANNOTATION not in p.metadata.annotations and p.status.phase not in _TERMINAL]
        unmanaged = [p for p in doomed if not any(o.controller for o in p.metadata.owner_references)]
        daemons = [p for p in doomed
                   if any(o.controller and o.kind == "DaemonSet" for o in p.metadata.owner_references)]
        problems = []
        if unmanaged and not args.force:
            problems.append(f"cannot delete pods not managed by a controller (use --force to override): "
                            f"{_names(unmanaged)}")
        if daemons and not args.ignore_daemonsets:
            problems.append(f"cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): "
                            f"{_names(daemons)}")
        if problems:
            raise common.CommandError("\n".join(problems))
        if daemons:
            print(f"Warning: ignoring DaemonSet-managed Pods: {_names(daemons)}", file=sys.stderr, flush=True)
            doomed = [p for p in doomed if p not in daemons]
        grace = args.grace_period if args.grace_period >= 0 else None
        deadline = time.monotonic() + args.timeout if args.timeout else None
        await asyncio.gather(*(_evict(pods, p, grace, deadline, args.node) for p in doomed))
        waiting = {(p.metadata.namespace, p.metadata.name, p.metadata.uid) for p in doomed}
        while waiting:
            if deadline is not None and time.monotonic() > deadline:
                raise common.CommandError(f"drain {args.node}: timed out waiting for {len(waiting)} pod(s) to go")
            await asyncio.sleep(0.5)
            current = await pods.list(field_selector=f"spec.nodeName={args.node}")
            still = {(p.metadata.namespace, p.metadata.name, p.metadata.uid) for p in current.items}
            for gone in waiting - still:
                print(f"pod/{gone[1]} evicted", flush=True)
            waiting &= still
        print(f"node/{args.node} drained", flush=True)
    return 0


async def _evict(pods, pod, grace: int | None, deadline: float | None, node: str) -> None:
    """Evict `pod`, retrying while its disruption budget says not now (kubectl's 5 s)."""
    name = f"{pod.metadata.namespace}/{pod.metadata.name}"
    print(f"evicting pod {name}", flush=True)
    while True:
        try:
            await pods.evict(pod.metadata.name, namespace=pod.metadata.namespace, grace_period_seconds=grace,
                             uid=pod.metadata.uid)
            return
        except errors.NotFound:
            return
        except errors.TooManyRequests as e:
            if deadline is not None and time.monotonic() + EVICTION_RETRY_SECONDS > deadline:
                raise common.CommandError(f"drain {node}: timed out evicting pod {name}: {e}") from None
            print(f"error when evicting pods/\"{pod.metadata.name}\" -n \"{pod.metadata.namespace}\" "
                  f"(will retry after {EVICTION_RETRY_SECONDS:g}s): {e}", file=sys.stderr, flush=True)
            await asyncio.sleep(EVICTION_RETRY_SECONDS)


def _names(pods) -> str:
    return ", ".join(f"{p.metadata.namespace}/{p.metadata.name}" for p in pods)


async def set_unschedulable(client: Client, name: str, value: bool) -> str:
    """Set spec.unschedulable (retrying on conflicts); returns kubectl's one-line report."""
    nodes = client.resource("Node")
    verb = "cordoned" if value else "uncordoned"
    for _ in range(5):
        node = await nodes.get(name)
        if node.spec.unschedulable == value:
            return f"node/{name} already {verb}"
        node.spec.unschedulable = value
        try:
            await nodes.update(node)
            return f"node/{name} {verb}"
        except errors.Conflict:
            continue
    raise errors.Conflict(grpc.StatusCode.ABORTED, f"node {name} kept changing; try again")
