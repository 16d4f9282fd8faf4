"""`cox local up`/`down` as processes: idempotent, several at once, nothing left behind even after a failure."""
import ipaddress
import json
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from pyroute2 import netns as pr_netns

from localcluster import cluster, procs
from localcluster.layout import CLUSTER_CIDR, NODE_SUBNETS, RUN_ROOT, SERVICE_CIDR, Layout
from tests.support.control_plane import cox_env


def cox_local(*args, home, timeout=300):
    return subprocess.run([sys.executable, "-m", "controlplane.cli", "local", *args], env=cox_env(home),
                          capture_output=True, text=True, timeout=timeout)


def leftovers(name: str, state_dir: Path) -> list[str]:
    """Anything of cluster `name` still on the machine."""
    layout = Layout.of(name, state_dir=state_dir)
    found = [ns for ns in pr_netns.listnetns() if ns.startswith(layout.prefix)]
    if subprocess.run(["ip", "link", "show", layout.host_link], capture_output=True).returncode == 0:
        found.append(layout.host_link)
    found += [str(p) for p in (layout.run_dir, layout.server_dir, layout.node_dir("node1")) if p.exists()]
    found += [str(d) for d in Path("/sys/fs/cgroup").glob(f"*/{layout.prefix}*")]
    return found


@pytest.fixture
def names(tmp_path):
    """Unique cluster names, each torn down at the end whatever the test did."""
    made = []

    def make():
        name = f"t{secrets.token_hex(4)}"
        made.append(name)
        return name, tmp_path / name
    yield make
    for name in made:
        cluster.down(name, state_dir=tmp_path / name)


def cmdline(proc: dict) -> list[str]:
    return Path(f"/proc/{proc['pid']}/cmdline").read_text().rstrip("\0").split("\0")


def test_up_twice_is_one_cluster_and_down_removes_everything(names, tmp_path):
    """Flags passed through, with the controllers in a process of their own (down stops it too)."""
    name, state_dir = names()
    first = cox_local("up", "--name", name, "--nodes", "2", "--state-dir", str(state_dir),
                      "--cluster-cidr", "198.19.64.0/18", "--service-cidr", "198.19.136.0/21",
                      "--server-arg=--service-node-port-range=31000-31999",
                      "--controller-manager-arg=--node-monitor-grace-period=30", home=tmp_path)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "is up" in first.stdout and "COX_CONFIG=" in first.stdout
    state = json.loads((RUN_ROOT / name / "state.json").read_text())
    assert {"--disable-controller-manager", "--service-node-port-range=31000-31999"} <= set(cmdline(state["server"]))
    assert cmdline(state["controller_manager"])[-4:] == ["controller-manager", "--cluster-cidr", "198.19.64.0/18",
                                                        "--node-monitor-grace-period=30"]
    cidrs = ["--cluster-cidr", "198.19.64.0/18", "--service-cidr", "198.19.136.0/21"]
    for proc in (state["server"], *(node["agent"] for node in state["nodes"])):
        assert " ".join(cidrs) in " ".join(cmdline(proc))
    again = cox_local("up", "--name", name, "--nodes", "2", "--state-dir", str(state_dir), home=tmp_path)
    assert again.returncode == 0 and "was already up" in again.stdout
    assert json.loads((RUN_ROOT / name / "state.json").read_text()) == state   # nothing restarted

    config = state_dir / "server" / "admin.yaml"
    nodes = subprocess.run([sys.executable, "-m", "controlplane.cli", "get", "nodes", "--config", str(config)],
                           env=cox_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert nodes.returncode == 0 and "node1" in nodes.stdout and "node2" in nodes.stdout, nodes.stderr
    listed = subprocess.run([sys.executable, "-m", "controlplane.cli", "get", "nodes", "-o", "json",
                             "--config", str(config)], env=cox_env(tmp_path), capture_output=True, text=True, timeout=60)
    pod_cidrs = [ipaddress.ip_network(n["spec"]["podCIDR"]) for n in json.loads(listed.stdout)["items"]]
    assert len(pod_cidrs) == 2 and all(c.subnet_of(ipaddress.ip_network("198.19.64.0/18")) for c in pod_cidrs)
    assert f"{name}\t2 node(s)" in cox_local("list", home=tmp_path).stdout

    down = cox_local("down", "--name", name, home=tmp_path)
    assert down.returncode == 0 and "removed" in down.stdout
    assert leftovers(name, state_dir) == []
    assert not procs.alive(procs.Proc.from_json(state["server"]))
    assert not procs.alive(procs.Proc.from_json(state["controller_manager"]))
    assert "nothing to remove" in cox_local("down", "--name", name, home=tmp_path).stdout


def test_two_clusters_at_once_do_not_touch_each_other(names):
    (a, a_dir), (b, b_dir) = names(), names()
    info_a = cluster.up(a, nodes=1, state_dir=a_dir, agents=False)
    info_b = cluster.up(b, nodes=1, state_dir=b_dir, agents=False)
    assert info_a.nodes[0][1] != info_b.nodes[0][1] and info_a.server != info_b.server
    cluster.down(a, state_dir=a_dir)
    assert leftovers(a, a_dir) == []
    state_b = cluster.ClusterState.load(Layout.of(b, state_dir=b_dir))
    assert state_b.healthy()


@pytest.mark.parametrize("options, error", [
    ({"agent_args": ("--no-such-flag",)}, "node1: cox agent exited"),
    ({"controller_manager_args": ("--leader-elect-lease-duration=1",)},   # shorter than the renew deadline
     "cox controller-manager exited: (.|\n)*lease duration > renew deadline")])
def test_a_failed_up_says_why_at_once_and_leaves_nothing_behind(names, options, error):
    name, state_dir = names()
    with pytest.raises(RuntimeError, match=error):
        cluster.up(name, nodes=1, state_dir=state_dir, timeout=60, **options)
    assert leftovers(name, state_dir) == []


@pytest.mark.parametrize("cidrs, error", [
    ({"cluster_cidr": "198.19.0.0/33"}, "--cluster-cidr: "),
    ({"service_cidr": "198.18.0.0/20"}, "--service-cidr: 198.18.0.0/20 overlaps the machines' addresses"),
    ({"service_cidr": "198.19.0.0/20"}, "--service-cidr: 198.19.0.0/20 overlaps --cluster-cidr 198.19.0.0/17")])
def test_bad_cidrs_are_refused_by_flag_before_anything_is_made(names, cidrs, error):
    name, state_dir = names()
    with pytest.raises(ValueError, match=error):
        cluster.up(name, nodes=1, state_dir=state_dir, **cidrs)
    assert leftovers(name, state_dir) == []


def test_the_default_addresses_are_apart_and_in_the_benchmarking_range():
    benchmarking = ipaddress.ip_network("198.18.0.0/15")
    nets = [NODE_SUBNETS, CLUSTER_CIDR, SERVICE_CIDR]
    assert all(net.subnet_of(benchmarking) for net in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])


def test_up_on_a_broken_cluster_starts_afresh(names):
    name, state_dir = names()
    cluster.up(name, nodes=1, state_dir=state_dir, agents=False)
    layout = Layout.of(name, state_dir=state_dir)
    before = cluster.ClusterState.load(layout)
    procs.stop(before.nodes[0].dockerd)   # a node's dockerd dies
    assert not before.healthy()
    info = cluster.up(name, nodes=1, state_dir=state_dir, agents=False)
    after = cluster.ClusterState.load(layout)
    assert info.created and after.healthy() and after.nodes[0].dockerd != before.nodes[0].dockerd


def test_names_are_checked():
    with pytest.raises(ValueError, match="cluster name"):
        Layout.of("Bad_Name")
