"""One dockerd per node, inside the node's network namespace, sharing nothing with any other.

Its own --data-root, --exec-root (hence its own containerd), pidfile, socket
and --cgroup-parent; a private empty --config-file so /etc/docker/daemon.json
is never read. It is entered with `nsenter --net`, which keeps the host's
mount namespace: `ip netns exec` remounts /sys and dockerd then finds no
cgroups (FINDINGS).

Flags that matter for the pod network (agent/network/README.md):
- --bridge=none: no docker0; pods go on the agent's pod network only.
- --userland-proxy=false: Docker then puts every container's bridge port in
  hairpin mode, which a pod reaching itself through a Service needs.
- iptables stay on (Docker's default, as on a real node), so the agent's
  handling of Docker's FORWARD rules is exercised here too.
"""
from __future__ import annotations

import contextlib
import json
import shutil
import time

import docker

from localcluster import leftovers, procs
from localcluster.hostnet import netns_pids
from localcluster.layout import Layout
from localcluster.procs import Proc

DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"


def argv(layout: Layout, node: str) -> list[str]:
    data, run = layout.node_dir(node), layout.node_run_dir(node)
    return [DOCKERD,
            "--config-file", str(data / "daemon.json"),
            "--data-root", str(data / "docker"),
            "--exec-root", str(run / "exec"),
            "--pidfile", str(run / "docker.pid"),
            "-H", layout.docker_url(node),
            "--bridge=none", "--userland-proxy=false",
            "--cgroup-parent", layout.cgroup_parent(node),
            "--log-level", "warn"]


def start(layout: Layout, node: str) -> Proc:
    data, run = layout.node_dir(node), layout.node_run_dir(node)
    data.mkdir(parents=True, exist_ok=True)
    run.mkdir(parents=True, exist_ok=True)
    (data / "daemon.json").write_text(json.dumps({}))
    return procs.spawn(argv(layout, node), log_path=layout.log_path(f"{node}-dockerd"),
                       netns=layout.node_netns(node))


def wait_ready(layout: Layout, node: str, proc: Proc, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not procs.alive(proc):
            raise RuntimeError(f"{node}: dockerd exited; see {layout.log_path(f'{node}-dockerd')}")
        with contextlib.suppress(Exception), docker.APIClient(layout.docker_url(node), timeout=2) as api:
            api.ping()
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{node}: dockerd not ready after {timeout:.0f}s; "
                               f"see {layout.log_path(f'{node}-dockerd')}")
        time.sleep(0.05)


def stop(layout: Layout, node: str, proc: Proc | None) -> None:
    """Remove the node's containers, stop its dockerd, then sweep what a dead daemon leaves. Idempotent."""
    if proc is not None and procs.alive(proc):
        with contextlib.suppress(Exception), docker.APIClient(layout.docker_url(node), timeout=30) as api:
            for container in api.containers(all=True, quiet=True):
                with contextlib.suppress(docker.errors.APIError):
                    api.remove_container(container["Id"], force=True, v=True)
        procs.stop(proc, grace=20)
    parent = layout.cgroup_parent(node)
    procs.kill_all(netns_pids(layout.node_netns(node)) + leftovers.cgroup_pids(parent))
    leftovers.unmount_under(layout.node_dir(node))
    leftovers.unmount_under(layout.node_run_dir(node))
    leftovers.remove_cgroups(parent)
