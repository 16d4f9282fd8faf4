"""Appliers: each puts a transaction of nft commands (nft's JSON schema) into the kernel atomically.

One call is one atomic transaction: the kernel applies all of it or none of
it, so a failed change leaves the previous rules whole (and the proxier falls
back to a full resync). Blocking; the proxier calls them from a worker thread.

- NetlinkApplier, the proxy's: encodes the commands as nf_tables netlink
  messages (nlencode.py) and sends them as one batch on a socket in the node's
  namespace (nfsocket.py). No process per change, no fetch of the whole table
  first (what nft 1.0.6 spent most of a small change on: 90-150 ms at 10,000
  Services), no JSON parser. It knows only what the proxy's renderer writes.
- Applier: `nft -j -f -`. Any nft JSON, at nft's price: for small tables of
  other components (the pod network's masquerade table), and for reading a
  table back. tests/proxy/nftcli.py builds on it to apply the proxy's
  commands with nft itself, the reference the netlink path is tested against.
"""
from __future__ import annotations

import errno
import json
import os
import subprocess
from typing import Any, Mapping, Protocol

from agent.proxy.names import FAMILY
from agent.proxy.netns import netns_path
from agent.proxy.nfsocket import BatchRefused, NfTablesSocket
from agent.proxy.nftjson import Command, Table
from agent.proxy.nlencode import encode
from agent.proxy.render import SHARED_SETS, gc_paused


class NftError(RuntimeError):
    pass


class Transactions(Protocol):
    """What the proxier needs of an applier."""

    def apply(self, commands: list[Command]) -> None:
        """Apply `commands` as one transaction, or raise NftError and change nothing."""


class NetlinkApplier:
    def __init__(self, *, netns: str | None = None, sets: Mapping[str, dict[str, Any]] = SHARED_SETS,
                 timeout: float = 60.0):
        """netns: a name under /run/netns, or a path to a namespace file; None: this namespace.
        sets: declarations of the sets a transaction may add elements to without declaring them."""
        self._netns = netns
        self._sets = sets
        self._timeout = timeout
        self._socket: NfTablesSocket | None = None

    def apply(self, commands: list[Command]) -> None:
        if not commands:
            return
        with gc_paused():
            messages = encode(commands, sets=self._sets)
        if self._socket is None:
            self._socket = NfTablesSocket(netns=self._netns, timeout=self._timeout)
        try:
            self._socket.apply(messages)
        except BatchRefused as e:
            raise NftError("nf_tables refused the transaction: " + "; ".join(
                f"{_describe(commands[messages[i].command]) if i is not None else 'the batch'}: {os.strerror(errno)}"
                + (f" ({text})" if text else "") for i, errno, text in e.errors)) from None
        except BaseException:  # timeout, or the answers were lost: start the next batch on a fresh socket
            self.close()
            raise

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


class Applier:
    def __init__(self, *, netns: str | None = None, timeout: float = 60.0):
        """netns: a name under /run/netns, or a path to a namespace file; None: this namespace."""
        self._prefix = [] if netns is None else ["nsenter", f"--net={netns_path(netns)}"]
        self._timeout = timeout

    def apply(self, commands: list[Command]) -> None:
        if commands:
            self._run(["-j", "-f", "-"], json.dumps({"nftables": commands}, separators=(",", ":")))

    def list_table(self, table: str) -> list[dict[str, Any]]:
        """The table as nft JSON objects (what the kernel holds now)."""
        return json.loads(self._run(["-j", "list", "table", FAMILY, table], None))["nftables"]

    def _run(self, args: list[str], stdin: str | None) -> str:
        result = subprocess.run([*self._prefix, "nft", *args], input=stdin, capture_output=True, text=True,
                                timeout=self._timeout)
        if result.returncode:
            raise NftError(f"nft {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout


def delete_table(name: str, *, netns: str | None = None) -> bool:
    """Delete one of our tables whole (for `cox agent --cleanup`); False if it was not there."""
    sock = NfTablesSocket(netns=netns)
    try:
        sock.apply(encode([Table(name).delete()]))
    except BatchRefused as e:
        if [code for _, code, _ in e.errors] == [errno.ENOENT]:
            return False
        raise NftError(f"delete table {FAMILY} {name}: {e}") from None
    finally:
        sock.close()
    return True


def _describe(command: Command) -> str:
    text = json.dumps(command, separators=(",", ":"))
    return text if len(text) <= 300 else text[:297] + "..."
