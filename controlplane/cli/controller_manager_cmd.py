"""`cox controller-manager`: the controllers alone, against any API server.

`cox server` runs them in its own process; this runs them elsewhere (or
several copies for high availability: with --leader-elect, the default, one
acts and the others stand by).
"""
import asyncio
import signal

from controlplane.cli import common
from controlplane.cli.common import CommandError
from controlplane.controllers.options import CONTROLLER_NAMES, ControllerOptions
from controlplane.metrics import flag

_DEFAULTS = ControllerOptions()


def register(sub) -> None:
    p = sub.add_parser("controller-manager", help="run the controllers (node lifecycle, replicaset, ...)")
    common.add_config_option(p)
    add_controller_options(p)
    flag.add_flag(p, default=flag.CONTROLLER_MANAGER_DEFAULT)
    p.set_defaults(func=run)


def add_controller_options(p) -> None:
    """The controllers' flags, shared with `cox server`, which runs them too."""
    p.add_argument("--controllers", default=",".join(CONTROLLER_NAMES),
                   help=f"comma-separated controllers to run (default: all: {','.join(CONTROLLER_NAMES)})")
    p.add_argument("--leader-elect", default="true", choices=("true", "false"),
                   help="take the kube-system/cox-controller-manager Lease before acting (default true)")
    p.add_argument("--leader-elect-lease-duration", type=float, default=_DEFAULTS.lease_duration,
                   help=f"seconds a stopped leader's Lease holds the others off (default {_DEFAULTS.lease_duration:g})")
    p.add_argument("--leader-elect-renew-deadline", type=float, default=_DEFAULTS.renew_deadline,
                   help=f"seconds a leader keeps acting without renewing (default {_DEFAULTS.renew_deadline:g})")
    p.add_argument("--leader-elect-retry-period", type=float, default=_DEFAULTS.retry_period,
                   help=f"seconds between attempts to take or renew the Lease (default {_DEFAULTS.retry_period:g})")
    p.add_argument("--concurrent-syncs", type=int, default=None,
                   help="workers per controller (default: each controller's own)")
    p.add_argument("--node-monitor-period", type=float, default=_DEFAULTS.node_monitor_period,
                   help=f"seconds between looks at the nodes' heartbeats (default {_DEFAULTS.node_monitor_period:g})")
    p.add_argument("--node-monitor-grace-period", type=float, default=_DEFAULTS.node_monitor_grace_period,
                   help="seconds without a heartbeat before a node's Ready condition turns Unknown (default 40)")
    p.add_argument("--node-startup-grace-period", type=float, default=_DEFAULTS.node_startup_grace_period)
    p.add_argument("--node-eviction-rate", type=float, default=_DEFAULTS.node_eviction_rate,
                   help="nodes per second tainted for eviction, per zone (default 0.1)")
    p.add_argument("--secondary-node-eviction-rate", type=float,
                   default=_DEFAULTS.secondary_node_eviction_rate)
    p.add_argument("--unhealthy-zone-threshold", type=float, default=_DEFAULTS.unhealthy_zone_threshold)
    p.add_argument("--large-cluster-size-threshold", type=int, default=_DEFAULTS.large_cluster_size_threshold)
    p.add_argument("--cluster-cidr", default=_DEFAULTS.cluster_cidr,
                   help="pod addresses, cut into one subnet per node (default 10.244.0.0/16)")
    p.add_argument("--node-cidr-mask-size", type=int, default=_DEFAULTS.node_cidr_mask_size)
    p.add_argument("--job-backoff-seconds", type=float, default=_DEFAULTS.job_backoff_seconds)
    p.add_argument("--horizontal-pod-autoscaler-sync-period", type=float, default=_DEFAULTS.hpa_sync_period,
                   help=f"seconds between two looks at each HorizontalPodAutoscaler (default {_DEFAULTS.hpa_sync_period:g})")
    p.add_argument("--resource-quota-sync-period", type=float, default=_DEFAULTS.resource_quota_sync_period,
                   help="seconds between two full recounts of every ResourceQuota (default 300)")
    p.add_argument("--terminated-pod-gc-threshold", type=int, default=_DEFAULTS.terminated_pod_gc_threshold,
                   help="finished pods to keep before the oldest are deleted (default 12500; 0 keeps all)")


def options_from(args) -> ControllerOptions:
    return ControllerOptions(
        controllers=tuple(c.strip() for c in args.controllers.split(",") if c.strip()),
        workers=args.concurrent_syncs, leader_elect=args.leader_elect == "true",
        lease_duration=args.leader_elect_lease_duration, renew_deadline=args.leader_elect_renew_deadline,
        retry_period=args.leader_elect_retry_period,
        node_monitor_period=args.node_monitor_period, node_monitor_grace_period=args.node_monitor_grace_period,
        node_startup_grace_period=args.node_startup_grace_period, node_eviction_rate=args.node_eviction_rate,
        secondary_node_eviction_rate=args.secondary_node_eviction_rate,
        unhealthy_zone_threshold=args.unhealthy_zone_threshold,
        large_cluster_size_threshold=args.large_cluster_size_threshold, cluster_cidr=args.cluster_cidr,
        node_cidr_mask_size=args.node_cidr_mask_size, job_backoff_seconds=args.job_backoff_seconds,
        hpa_sync_period=args.horizontal_pod_autoscaler_sync_period,
        resource_quota_sync_period=args.resource_quota_sync_period,
        terminated_pod_gc_threshold=args.terminated_pod_gc_threshold)


async def run(args) -> int:
    try:
        options = options_from(args)
    except ValueError as e:
        raise CommandError(str(e)) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    from controlplane.controllers.manager import ControllerManager  # every controller: only when run

    async with common.metrics_endpoint(args.metrics_bind_address, default=flag.CONTROLLER_MANAGER_DEFAULT), \
            common.connect(args) as client:
        print(f"cox controller-manager: {options.identity}, controllers {', '.join(options.controllers)}",
              flush=True)
        await ControllerManager(client, options).run(stop)
    return 0
