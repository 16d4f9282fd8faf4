"""coxswain's state in the host's namespaces, for the test session's leak check (tests/conftest.py).

Named `cox*` there: nft tables, links, network namespaces and the host
dockerd's networks; plus what the node agent makes without a name of its
own (nodestate.agent_objects: its routes, DNS address, DOCKER-USER rules).

Other test runs share the machine, so an object that appears during the
session need not be this run's. One is not counted while a process outside
this run names it in its command line: a private dockerd of another run
holds its bridge (`--bridge coxkl1a2b3c4d`), a local cluster's processes its
namespaces (`cox-t1a2b3c4d-sw`: their paths name `t1a2b3c4d`). An object of
a run being torn down is gone a moment later, so the check looks again for a
while before it calls anything a leak. Nothing names the agent's fixed names
(`cox-dns`, `coxswain-proxy-node1`, ...): any of those that appears is a leak.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import time
from pathlib import Path

import docker

from tests.support.nodestate import agent_objects, output

PREFIX = "cox"
HOST_DOCKER = "unix:///var/run/docker.sock"
# The object of a local cluster of tests/support/cluster.py (cox-NAME-sw, ...) is held by what names NAME.
_CLUSTER_OBJECT = re.compile(r"cox-(t[0-9a-f]{8})-.+")
_NAMED = ("nft table ", "link ", "netns ", "docker network ")


def host_objects() -> set[str]:
    """Every coxswain object in the host's namespaces, one string each ("link cox-dns", ...)."""
    found = set(agent_objects())
    found |= {f"nft table {t['family']} {t['name']}" for t in _nft_tables() if t["name"].startswith(PREFIX)}
    found |= {f"link {link['ifname']}" for link in json.loads(output(["ip", "-j", "link", "show"]))
              if link["ifname"].startswith(PREFIX)}
    with contextlib.suppress(FileNotFoundError):
        found |= {f"netns {name}" for name in os.listdir("/run/netns") if name.startswith(PREFIX)}
    found |= {f"docker network {name}" for name in _host_docker_networks() if name.startswith(PREFIX)}
    return found


def leaked_since(before: set[str], *, settle: float = 10.0) -> list[str]:
    """What appeared since `before` and no other run holds, still so after `settle` seconds; sorted."""
    deadline = time.monotonic() + settle
    while True:
        cmdlines = _other_runs_cmdlines()
        leaked = {item for item in host_objects() - before if not _held(item, cmdlines)}
        if not leaked or time.monotonic() > deadline:
            return sorted(leaked)
        time.sleep(0.5)


def _held(item: str, cmdlines: list[str]) -> bool:
    """Whether one of these command lines names the object (or its local cluster) as a word of its own.
    Only objects with a name of their own can be held: never a route, an address or a rule."""
    if not item.startswith(_NAMED):
        return False
    name = item.split()[-1]
    cluster = _CLUSTER_OBJECT.fullmatch(name)
    word = re.compile(rf"(?<!\w){re.escape(cluster[1] if cluster else name)}(?!\w)")
    return any(word.search(cmdline) for cmdline in cmdlines)


def _other_runs_cmdlines() -> list[str]:
    """Command lines of the processes not started by this run (not below this process)."""
    parents, cmdlines = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdlines[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    ours = os.getpid()

    def below_us(pid: int) -> bool:
        while pid > 1:
            if pid == ours:
                return True
            pid = parents.get(pid, 0)
        return False
    return [cmdline for pid, cmdline in cmdlines.items() if not below_us(pid)]


def _nft_tables() -> list[dict]:
    return [item["table"] for item in json.loads(output(["nft", "-j", "list", "tables"]))["nftables"]
            if "table" in item]


def _host_docker_networks() -> list[str]:
    """The host dockerd's networks, if one runs (tests use private dockerds; a host agent would use it)."""
    if not Path(HOST_DOCKER.removeprefix("unix://")).exists():
        return []
    try:
        with docker.APIClient(HOST_DOCKER, timeout=10) as api:
            return [network["Name"] for network in api.networks()]
    except docker.errors.DockerException:
        return []   # a socket left by a dockerd that is not running

