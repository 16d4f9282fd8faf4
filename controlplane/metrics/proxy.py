"""The Service proxy's series, as kube-proxy names them.

A sync's duration (full or partial), when the last one ended, and how many
nftables commands the last full sync wrote: every rule, chain, map and
element of the node's table, the nftables proxy's rule count.
"""
from __future__ import annotations

import time

from prometheus_client.metrics import Gauge, Histogram

# kube-proxy's: 1 ms doubling, 15 buckets.
_BUCKETS = tuple(0.001 * 2 ** i for i in range(15))

SYNC_DURATION = Histogram("kubeproxy_sync_proxy_rules_duration_seconds", "Latency of one sync of the proxy rules",
                          ["sync"], buckets=_BUCKETS)
LAST_SYNC = Gauge("kubeproxy_sync_proxy_rules_last_timestamp_seconds", "When the last sync of the rules ended")
RULES = Gauge("kubeproxy_sync_proxy_rules_nftables_total",
              "Objects (rules, chains, maps, elements) the last full sync wrote to the node's table")


def synced(*, full: bool, commands: int, seconds: float) -> None:
    SYNC_DURATION.labels("full" if full else "partial").observe(seconds)
    LAST_SYNC.set(time.time())
    if full:
        RULES.set(commands)
