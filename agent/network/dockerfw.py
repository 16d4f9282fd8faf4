"""Let cluster traffic through the FORWARD rules of a Docker that manages iptables.

A dockerd running with its default --iptables=true, once it has turned on IP
forwarding itself, sets the FORWARD policy to DROP and accepts only what it
knows: traffic out of a bridge, replies into it, and published ports. A new
connection from a pod on another node into this node's pod bridge matches
none of that and is dropped; so is NodePort traffic this node forwards to a
pod elsewhere. An accept in an nftables table of our own cannot help: an
accept ends only its own base chain, and Docker's drop lives in another one.
Docker's documented place for a user's own verdicts is the DOCKER-USER chain,
jumped to first from FORWARD: we insert two accepts there, for traffic from
and to the cluster CIDR. With --iptables=false there is no such chain and
nothing to do.
"""
from __future__ import annotations

import shlex
import subprocess

from agent.network.netns import run

CHAIN = "DOCKER-USER"
COMMENT = "coxswain: cluster traffic"


def _iptables(args: list[str], netns: str | None) -> subprocess.CompletedProcess:
    return run(["iptables", "-w", "5", *args], netns=netns)


def _specs(cluster_cidr: str) -> list[list[str]]:
    return [[flag, cluster_cidr, "-m", "comment", "--comment", COMMENT, "-j", "ACCEPT"] for flag in ("-s", "-d")]


def ensure_docker_user_accept(cluster_cidr: str, *, netns: str | None = None) -> bool:
    """Insert the accepts if Docker's chain exists; False when Docker manages no iptables here."""
    if _iptables(["-S", CHAIN], netns).returncode != 0:
        return False
    for spec in _specs(cluster_cidr):
        if _iptables(["-C", CHAIN, *spec], netns).returncode != 0:
            inserted = _iptables(["-I", CHAIN, "1", *spec], netns)
            if inserted.returncode:
                raise RuntimeError(f"iptables -I {CHAIN}: {inserted.stderr.strip()}")
    return True


def remove_docker_user_accept(*, netns: str | None = None) -> int:
    """Delete every rule of ours (known by its comment, whatever cluster CIDR it was made for) from
    Docker's chain; how many there were. Nothing to do when the chain does not exist."""
    listed = _iptables(["-S", CHAIN], netns)
    if listed.returncode != 0:
        return 0
    ours = [shlex.split(line)[2:] for line in listed.stdout.splitlines()
            if line.startswith(f"-A {CHAIN} ") and COMMENT in line]
    for spec in ours:
        deleted = _iptables(["-D", CHAIN, *spec], netns)
        if deleted.returncode:
            raise RuntimeError(f"iptables -D {CHAIN}: {deleted.stderr.strip()}")
    return len(ours)
