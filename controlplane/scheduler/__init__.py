"""The scheduler (kube-scheduler's room): pending pods in, bindings out.

    framework.py   the extension points, one interface each, with their contracts
    runtime.py     a profile's plugins run in order: the scheduling algorithm
    plugins/       one module per rule; registry.py holds the defaults and weights
    podinfo.py     a pod parsed once: requests, selectors, terms
    nodetable.py   every node as a row of numpy columns, which plugins read at once
    cache.py       nodes and placed (including assumed) pods, and the indexes over them
    queue.py       active / backoff / unschedulable, retried on cluster events
    scheduler.py   informers -> cache and queue; the loop; binding; events; leader election
    config.py      the KubeSchedulerConfiguration file

`run_scheduler(client, stop=...)` is what `cox server` runs; `cox scheduler
--config FILE` runs it alone.
"""
from controlplane.scheduler.scheduler import Scheduler, run_scheduler

__all__ = ["Scheduler", "run_scheduler"]
