"""The node's network namespace, for the proxy's kernel work: a path for nsenter, a socket made inside.

A namespace is given as a name under /run/netns (what `ip netns` and pyroute2
use) or as a path to a namespace file; None means the agent's own namespace.
"""
from __future__ import annotations

import ctypes
import os
import socket
import threading

CLONE_NEWNET = 0x40000000


def netns_path(netns: str) -> str:
    return netns if "/" in netns else f"/run/netns/{netns}"


def socket_in(netns: str | None, family: int, type_: int, proto: int) -> socket.socket:
    """A socket that belongs to `netns`. A socket keeps the namespace it was made in, so it is made
    by a short-lived thread that first moves itself there (setns changes only the calling thread)."""
    if netns is None:
        return socket.socket(family, type_, proto)
    made: list[socket.socket | BaseException] = []

    def make() -> None:
        try:
            fd = os.open(netns_path(netns), os.O_RDONLY)
            try:
                if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, f"setns {netns_path(netns)}: {os.strerror(error)}")
            finally:
                os.close(fd)
            made.append(socket.socket(family, type_, proto))
        except BaseException as e:  # handed to the caller's thread
            made.append(e)

    thread = threading.Thread(target=make, name=f"setns-{netns}")
    thread.start()
    thread.join()
    if isinstance(made[0], BaseException):
        raise made[0]
    return made[0]
