"""`cox scheduler --config FILE`: the scheduler alone, against a local or remote API server.

`cox server` runs the same scheduler in its own process; this command is for
running it elsewhere (or several, leader-elected). The configuration file is
a KubeSchedulerConfiguration subset (controlplane/scheduler/config.py); its
clientConnection.kubeconfig names the client config, else $COX_CONFIG, else
~/.cox/config.
"""
import asyncio
import signal

from controlplane.cli import common
from controlplane.client import Client, load_config
from controlplane.metrics import flag


def register(sub) -> None:
    p = sub.add_parser("scheduler", help="run the scheduler on its own")
    p.add_argument("--config", default="", help="scheduler configuration file (KubeSchedulerConfiguration)")
    flag.add_flag(p, default=flag.SCHEDULER_DEFAULT)
    p.set_defaults(func=run)


async def run(args) -> int:
    from controlplane.scheduler import config as scheduler_config  # heavy (numpy): only when run
    from controlplane.scheduler.scheduler import Scheduler

    try:
        settings = scheduler_config.load(args.config) if args.config else scheduler_config.SchedulerConfig()
    except scheduler_config.ConfigError as e:
        raise common.CommandError(str(e)) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with common.metrics_endpoint(args.metrics_bind_address, default=flag.SCHEDULER_DEFAULT), \
            Client(load_config(settings.kubeconfig or None)) as client:
        print(f"cox scheduler: API server {client.config.server}", flush=True)
        await Scheduler(client, settings).run(stop)
    return 0
