"""A netfilter netlink socket that applies nf_tables batches: all of a batch or none of it.

A batch is BEGIN, the messages, END, sent in one sendmsg; the kernel runs it
as one transaction (the same one `nft -f` makes) and commits only if every
message succeeded. The kernel handles the batch inside that sendmsg and only
afterwards reports, in message order, every message that failed; the last
message asks for an acknowledgement, so its answer (or an error about the
batch as a whole, which names BEGIN) ends the wait. Each batch takes fresh
sequence numbers, so a late answer to an earlier batch is never mistaken for
one to this batch.

The socket is kept open between batches (opening one inside another network
namespace costs a thread) and is made inside the node's namespace.
"""
from __future__ import annotations

import os
import socket
import struct
from typing import Sequence

from agent.proxy.netns import socket_in
from agent.proxy.nlencode import NFNL_SUBSYS_NFTABLES, NLM_F_REQUEST, Message

NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_CAP_ACK, NETLINK_EXT_ACK = 10, 11  # short acknowledgements; error text from the kernel
SO_SNDBUFFORCE, SO_RCVBUFFORCE = 32, 33
NLMSG_ERROR = 2
NLM_F_ACK = 0x4
NLM_F_ACK_TLVS = 0x200
NLMSGERR_ATTR_MSG = 1
NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END = 0x10, 0x11
RECEIVE_BUFFER = 1 << 20  # room for the kernel's answers to a batch whose every message failed

_header = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port
_BATCH_NFGEN = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(NFNL_SUBSYS_NFTABLES))


class BatchRefused(RuntimeError):
    """The kernel refused the batch; nothing of it was applied."""

    def __init__(self, errors: list[tuple[int | None, int, str]]):
        """errors: (index of the failing message, or None for the batch as a whole; errno; kernel's text)."""
        self.errors = errors
        super().__init__("; ".join(f"{'batch' if i is None else f'message {i}'}: {os.strerror(e)}"
                                   + (f" ({text})" if text else "") for i, e, text in errors))


class NfTablesSocket:
    """One NETLINK_NETFILTER socket; apply() one batch at a time."""

    def __init__(self, *, netns: str | None = None, timeout: float = 60.0):
        """netns: a name under /run/netns, or a path to a namespace file; None: this namespace.
        timeout: seconds to wait for the kernel's answer to a batch."""
        self._sock = socket_in(netns, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        try:
            self._sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
            self._sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
            self._sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER)
            self._sock.bind((0, 0))
            self._sock.settimeout(timeout)
        except BaseException:
            self._sock.close()
            raise
        self._send_buffer = 0
        self._seq = 0

    def close(self) -> None:
        self._sock.close()

    def apply(self, messages: Sequence[Message]) -> None:
        """Apply `messages` as one transaction; raises BatchRefused (and changes nothing) if any fails."""
        if not messages:
            return
        begin = self._seq + 1
        last = begin + len(messages)
        self._seq = last + 1
        frames = [_frame(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, begin, _BATCH_NFGEN)]
        frames += [_frame(m.type, m.flags, begin + 1 + i, m.payload) for i, m in enumerate(messages)]
        frames[-1] = _frame(messages[-1].type, messages[-1].flags | NLM_F_ACK, last, messages[-1].payload)
        frames.append(_frame(NFNL_MSG_BATCH_END, NLM_F_REQUEST, last + 1, _BATCH_NFGEN))
        data = b"".join(frames)
        if len(data) + 4096 > self._send_buffer:  # the whole batch goes in one message
            self._send_buffer = max(len(data) + 4096, 1 << 20)
            self._sock.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, self._send_buffer)
        self._sock.sendto(data, (0, 0))
        errors = self._answers(begin, last)
        if errors:
            raise BatchRefused([(None if seq == begin else seq - begin - 1, errno, text)
                                for seq, errno, text in errors])

    def _answers(self, begin: int, last: int) -> list[tuple[int, int, str]]:
        errors = []
        while True:
            data = self._sock.recv(65536)
            offset = 0
            while offset + _header.size <= len(data):
                length, type_, flags, seq, _ = _header.unpack_from(data, offset)
                if type_ == NLMSG_ERROR and begin <= seq <= last:
                    (error,) = struct.unpack_from("=i", data, offset + _header.size)
                    if error:
                        errors.append((seq, -error, _error_text(data[offset:offset + length], flags)))
                    if seq in (begin, last):
                        return errors
                offset += (length + 3) & ~3


def _frame(type_: int, flags: int, seq: int, payload: bytes) -> bytes:
    return _header.pack(_header.size + len(payload), type_, flags, seq, 0) + payload


def _error_text(message: bytes, flags: int) -> str:
    """The kernel's message in an extended acknowledgement (after the error code and the echoed header)."""
    if not flags & NLM_F_ACK_TLVS:
        return ""
    offset = _header.size + 4 + _header.size
    while offset + 4 <= len(message):
        length, kind = struct.unpack_from("=HH", message, offset)
        if length < 4:
            break
        if kind & 0x3FFF == NLMSGERR_ATTR_MSG:
            return message[offset + 4:offset + length].rstrip(b"\0").decode(errors="replace")
        offset += (length + 3) & ~3
    return ""
