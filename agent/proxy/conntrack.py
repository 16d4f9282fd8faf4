"""Forgets UDP conntrack entries that a Service change left pointing at the wrong place.

UDP has no connection end, so conntrack keeps an entry (and its DNAT choice)
for as long as packets keep coming: a client that keeps sending to a Service
whose endpoint went away would keep sending to the dead address. TCP needs no
help: the client sees a reset or a timeout and reconnects, and the new
connection is DNAT'd afresh.

Done with pyroute2's conntrack netlink support rather than the `conntrack`
CLI: pyroute2 is already the agent's netlink library (routes, the sink), it
opens its socket inside a named network namespace itself, matches on partial
original and reply tuples, and needs no extra system package or a process per
deletion.
"""
from __future__ import annotations

import socket
from typing import Iterable

from agent.proxy.changes import StaleFlows
from agent.pyroute import Conntrack, NFCTAttrTuple


class ConntrackCleaner:
    def __init__(self, *, netns: str | None = None):
        """netns: a name under /run/netns; None: this namespace."""
        self._netns = netns

    def forget(self, flows: Iterable[StaleFlows]) -> int:
        """Delete the UDP entries matching any of `flows`; returns how many went."""
        flows = list(flows)
        if not flows:
            return 0
        deleted = 0
        kwargs = {} if self._netns is None else {"netns": self._netns}
        with Conntrack(**kwargs) as ct:
            for flow in flows:
                orig = NFCTAttrTuple(proto=socket.IPPROTO_UDP, daddr=flow.orig_dst, dport=flow.orig_dport)
                reply = None if flow.reply_src is None else NFCTAttrTuple(saddr=flow.reply_src)
                for entry in list(ct.dump_entries(tuple_orig=orig, tuple_reply=reply)):
                    ct.delete(entry)
                    deleted += 1
        return deleted
