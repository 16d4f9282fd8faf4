"""A private Docker Engine for one test session (or one benchmark run).

Several test runs share this machine's kernel, and there may be no host
dockerd at all, so every session starts its own dockerd with nothing global:

- its own --data-root, --exec-root (hence its own managed containerd),
  --pidfile and `-H unix://` socket under one temporary directory;
- --config-file pointing at a private `{}` so /etc/docker/daemon.json is
  never read;
- its own Linux bridge (unique name, a free /24) passed as --bridge, so two
  daemons never fight over docker0;
- --iptables=false, --ip-masq=false, --ip-forward=false: the daemon leaves
  the host's firewall and sysctls alone (FINDINGS.md: docker's FORWARD
  policy DROP and MASQUERADE are traps). Tests need neither: containers of a
  pod talk over localhost, and the host reaches a pod IP on the bridge as
  a local route, not forwarded traffic. Nothing can leave the machine;
- --cgroup-parent /<name>, so its containers' cgroups are its own.

It runs in the host network namespace so the test process (and a kubelet
it starts) can reach pod IPs directly, as a kubelet's probes do on a node.
Stopping removes its containers, stops dockerd by PID, kills leftover shims
of this daemon only (matched by its own containerd socket path), unmounts
what it left under its directories, and deletes the bridge.
"""
import contextlib
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import docker
from pyroute2 import IPRoute

from localcluster.leftovers import unmount_under

DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"


class PrivateDockerd:
    """One dockerd with unique names; `start()`, then `base_url`, then `stop()`."""

    def __init__(self, *, prefix: str = "cox") -> None:
        self.name = f"{prefix}{secrets.token_hex(4)}"          # e.g. cox1a2b3c4d: bridge and cgroup name
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir="/tmp"))
        self.bridge = self.name[:15]
        self.subnet: ipaddress.IPv4Network | None = None
        self.base_url = f"unix://{self.dir}/docker.sock"
        self.pid: int | None = None

    @property
    def gateway(self) -> str:
        return str(next(self.subnet.hosts()))

    def start(self, *, timeout: float = 30.0) -> None:
        self.subnet = _free_subnet()
        with IPRoute() as ipr:
            ipr.link("add", ifname=self.bridge, kind="bridge")
            index = ipr.link_lookup(ifname=self.bridge)[0]
            ipr.addr("add", index=index, address=self.gateway, prefixlen=self.subnet.prefixlen)
            ipr.link("set", index=index, state="up")
        (self.dir / "daemon.json").write_text(json.dumps({}))
        log = open(self.dir / "dockerd.log", "ab")
        proc = subprocess.Popen(
            [DOCKERD,
             "--config-file", str(self.dir / "daemon.json"),
             "--data-root", str(self.dir / "data"),
             "--exec-root", str(self.dir / "exec"),
             "--pidfile", str(self.dir / "docker.pid"),
             "-H", self.base_url,
             "--bridge", self.bridge,
             "--iptables=false", "--ip-masq=false", "--ip-forward=false",
             "--cgroup-parent", f"/{self.name}",
             "--log-level", "warn"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.pid = proc.pid
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"dockerd exited with {proc.returncode}: {self.log_tail()}")
            with contextlib.suppress(Exception), docker.APIClient(self.base_url, timeout=2) as api:
                api.ping()
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dockerd not ready after {timeout}s: {self.log_tail()}")
            time.sleep(0.05)

    def client(self, **kwargs) -> docker.APIClient:
        return docker.APIClient(self.base_url, version="auto", **kwargs)

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(FileNotFoundError):
            return "\n".join((self.dir / "dockerd.log").read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        """Tear everything down; safe to call twice and after a failed start."""
        if self.pid is not None and _alive(self.pid):
            with contextlib.suppress(Exception), self.client(timeout=30) as api:
                for c in api.containers(all=True, quiet=True):
                    with contextlib.suppress(docker.errors.APIError):
                        api.remove_container(c["Id"], force=True, v=True)
            os.kill(self.pid, signal.SIGTERM)
            if not _wait_gone(self.pid, 15):
                os.kill(self.pid, signal.SIGKILL)
                _wait_gone(self.pid, 5)
        self.pid = None
        for pid in _pids_mentioning(f"{self.dir}/exec/containerd/containerd.sock"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        unmount_under(self.dir)
        with contextlib.suppress(Exception), IPRoute() as ipr:
            for index in ipr.link_lookup(ifname=self.bridge):
                ipr.link("del", index=index)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "PrivateDockerd":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _free_subnet() -> ipaddress.IPv4Network:
    """A random 10.x.y.0/24 that no address or route on this host overlaps."""
    with IPRoute() as ipr:
        used = [ipaddress.ip_network(f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}", strict=False)
                for a in ipr.get_addr(family=2)]
        used += [ipaddress.ip_network(f"{r.get_attr('RTA_DST')}/{r['dst_len']}", strict=False)
                 for r in ipr.get_routes(family=2) if r.get_attr("RTA_DST")]
    for _ in range(100):
        candidate = ipaddress.ip_network(
            f"10.{secrets.randbelow(56) + 200}.{secrets.randbelow(256)}.0/24")
        if not any(candidate.overlaps(u) for u in used):
            return candidate
    raise RuntimeError("no free 10.200-255.x.0/24 subnet for a private docker bridge")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)   # reap it if it is our child
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _pids_mentioning(text: str) -> list[int]:
    """PIDs whose command line contains `text` (a path unique to this daemon)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
    return found
