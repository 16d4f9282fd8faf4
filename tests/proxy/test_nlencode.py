"""The netlink encoder alone, no kernel: what it refuses, how it splits and flags messages.
(That its messages mean what nft's do is test_netlink.py's job, against real kernels.)"""
import struct

import pytest

from agent.proxy import nftjson as j
from agent.proxy.nlencode import (DELSETELEM, NEWRULE, NEWSET, NEWSETELEM, NFNL_SUBSYS_NFTABLES, NLM_F_APPEND,
                                  NLM_F_CREATE, encode)
from agent.proxy.render import SHARED_SETS

T = j.Table("t")


def kind(message):
    return message.type & 0xFF


def test_unknown_constructs_are_refused_by_name():
    with pytest.raises(ValueError, match="counter"):
        encode([T.add_rule("c", [{"counter": None}])])
    with pytest.raises(ValueError, match="ipv6_addr"):
        encode([T.add_set("s", {"type": "ipv6_addr"})])
    with pytest.raises(ValueError, match="not seen declared"):
        encode([T.add_elements("nowhere", ["198.18.0.1"])])
    with pytest.raises(ValueError, match="only ip"):
        encode([{"add": {"chain": {"family": "inet", "table": "t", "name": "c"}}}])


def test_each_message_names_its_command_and_carries_nft_flags():
    messages = encode([T.add_rule("c", [j.goto("d")]), T.add_elements("node-ips", ["198.18.0.1"]),
                       T.delete_elements("node-ips", ["198.18.0.2"])], sets=SHARED_SETS)
    assert [(m.command, kind(m)) for m in messages] == [(0, NEWRULE), (1, NEWSETELEM), (2, DELSETELEM)]
    assert all(m.type >> 8 == NFNL_SUBSYS_NFTABLES for m in messages)
    assert messages[0].flags & (NLM_F_CREATE | NLM_F_APPEND) == NLM_F_CREATE | NLM_F_APPEND
    assert not messages[2].flags & NLM_F_CREATE


def test_long_element_lists_are_split_under_the_attribute_limit():
    elems = [j.element((f"198.18.{i // 250}.{i % 250}", "tcp", 80, 0), (f"198.19.{i // 250}.{i % 250}", 8080))
             for i in range(10_000)]
    messages = encode([T.add_elements("service-endpoints", elems)], sets=SHARED_SETS)
    assert len(messages) > 1 and all(kind(m) == NEWSETELEM for m in messages)
    for m in messages:
        # after the nfgen header and the table and set names: the element list, a 16-bit length
        offset = 4
        while True:
            length, attr = struct.unpack_from("=HH", m.payload, offset)
            if attr & 0x3FFF == 3:
                break
            offset += (length + 3) & ~3
        assert length < 65536
    assert sum(m.payload.count(struct.pack(">Hxx", 8080)) for m in messages) == 10_000  # each element's port, once


def test_a_set_a_rule_updates_in_the_same_batch_is_made_dynamic_as_nft_does():
    def flags(messages, name):
        [m] = [m for m in messages if kind(m) == NEWSET and name.encode() + b"\0" in m.payload]
        at = m.payload.index(struct.pack("=HH", 8, 3))  # NFTA_SET_FLAGS, a 32-bit value
        return struct.unpack_from(">I", m.payload, at + 4)[0]

    declare = [T.add_set("aff", {"type": "ipv4_addr", "flags": ["timeout"], "timeout": 60}),
               T.add_set("plain", {"type": "ipv4_addr", "flags": ["timeout"], "timeout": 60})]
    messages = encode([*declare, T.add_rule("c", [j.update_set(j.SADDR, "aff")])])
    assert flags(messages, "aff") == 0x30  # timeout, dynamic
    assert flags(messages, "plain") == 0x10
