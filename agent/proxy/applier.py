"""Runs nft transactions: `nft -j -f -`, in the node's network namespace when given one.

One call is one atomic transaction: the kernel applies all of it or none of
it, so a failed change leaves the previous rules whole (and the proxier falls
back to a full resync). Blocking; the proxier calls it from a worker thread.
"""
from __future__ import annotations

import json
import subprocess
from typing import Any

from agent.proxy.names import FAMILY
from agent.proxy.nftjson import Command


class NftError(RuntimeError):
    pass


class Applier:
    def __init__(self, *, netns: str | None = None, timeout: float = 60.0):
        """netns: a name under /run/netns, or a path to a namespace file; None: this namespace."""
        self._prefix = [] if netns is None else ["nsenter", f"--net={_netns_path(netns)}"]
        self._timeout = timeout

    def apply(self, commands: list[Command]) -> None:
        if commands:
            self._run(["-f", "-"], json.dumps({"nftables": commands}, separators=(",", ":")))

    def list_table(self, table: str) -> list[dict[str, Any]]:
        """The table as nft JSON objects (what the kernel holds now)."""
        out = self._run(["list", "table", FAMILY, table], None)
        return json.loads(out)["nftables"]

    def _run(self, args: list[str], stdin: str | None) -> str:
        result = subprocess.run([*self._prefix, "nft", "-j", *args], input=stdin, capture_output=True,
                                text=True, timeout=self._timeout)
        if result.returncode:
            raise NftError(f"nft {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout


def _netns_path(netns: str) -> str:
    return netns if "/" in netns else f"/run/netns/{netns}"
