"""A sandbox's namespace wired into a pod bridge by the agent (veth.py), and pod addresses on disk (ipam.py).

Real namespaces and links: a node namespace with a bridge, and a process in
a namespace of its own standing in for a pause container.
"""
import contextlib
import subprocess
import time
from pathlib import Path

import pytest

from agent.network import veth
from agent.network.ipam import AddressesExhausted, HostLocal, docker_range, own_range
from tests.support.netns import Lab

POD_CIDR = "198.19.77.0/24"


@contextlib.contextmanager
def pause_process():
    """A process in a fresh network namespace (as the pause container of network_mode=none)."""
    proc = subprocess.Popen(["unshare", "--net", "sleep", "600"])
    try:
        for _ in range(100):   # until unshare has exec'd sleep in its new namespace
            if Path(f"/proc/{proc.pid}/exe").resolve().name == "sleep":
                break
            time.sleep(0.02)
        yield proc
    finally:
        proc.kill()
        proc.wait()


def in_pod(pid: int, *argv: str) -> str:
    return subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", *argv], capture_output=True, text=True,
                          check=True, timeout=30).stdout


def test_a_wired_namespace_has_its_address_and_route_and_reaches_the_bridge():
    with Lab() as lab, pause_process() as pause:
        node = lab.netns("coxn")
        bridge = lab.bridge(node, address="198.19.77.1/24")
        host_name = veth.host_ifname("uid-1", 0)
        assert not veth.attached(host_name=host_name, netns=node.name)
        veth.attach(pid=pause.pid, host_name=host_name, address="198.19.77.5", pod_cidr=POD_CIDR, bridge=bridge,
                    netns=node.name)
        assert "inet 198.19.77.5/24" in in_pod(pause.pid, "ip", "-4", "addr", "show", "eth0")
        assert "link/ether 0a:58:c6:13:4d:05 " in in_pod(pause.pid, "ip", "link", "show", "eth0"), \
            "the MAC follows the IP, so a pod keeping its IP keeps its MAC"
        assert "default via 198.19.77.1 dev eth0" in in_pod(pause.pid, "ip", "route")
        assert f"master {bridge}" in node.run("ip", "link", "show", host_name).stdout
        assert "hairpin on" in node.run("ip", "-d", "link", "show", host_name).stdout
        assert veth.attached(host_name=host_name, netns=node.name)
        in_pod(pause.pid, "busybox", "ping", "-c", "1", "-W", "2", "198.19.77.1")
        pause.kill()
        pause.wait()
        for _ in range(100):
            if node.run("ip", "link", "show", host_name, check=False).returncode:
                break
            time.sleep(0.05)
        assert node.run("ip", "link", "show", host_name, check=False).returncode, "the pair dies with the pod"
        assert not veth.attached(host_name=host_name, netns=node.name)


def test_attach_refuses_a_missing_bridge():
    with Lab() as lab, pause_process() as pause:
        node = lab.netns("coxn")
        with pytest.raises(RuntimeError, match="pod bridge nosuchbr does not exist"):
            veth.attach(pid=pause.pid, host_name="vethx", address="198.19.77.5", pod_cidr=POD_CIDR,
                        bridge="nosuchbr", netns=node.name)


def test_ipam_keeps_one_address_per_pod_across_restarts_and_frees_it(tmp_path: Path):
    ipam = HostLocal(tmp_path / "ipam", POD_CIDR)
    first, second = ipam.allocate("a"), ipam.allocate("b")
    assert (first, second) == ("198.19.77.2", "198.19.77.3")
    assert ipam.allocate("a") == first, "the same pod keeps its address"
    again = HostLocal(tmp_path / "ipam", POD_CIDR)   # a restarted agent
    assert again.allocate("b") == second and again.allocate("c") == "198.19.77.4"
    assert again.release("a") == [first]
    assert again.allocate("d") == "198.19.77.5", "a freed address is reused last (round-robin)"
    assert again.allocations() == {"198.19.77.5": "d", second: "b", "198.19.77.4": "c"}


def test_ipam_leaves_the_upper_half_to_docker_and_says_when_it_is_full(tmp_path: Path):
    assert own_range(POD_CIDR)[0] == "198.19.77.2" and own_range(POD_CIDR)[-1] == "198.19.77.127"
    assert docker_range(POD_CIDR) == "198.19.77.128/25"
    ipam = HostLocal(tmp_path, "198.19.77.0/29")   # lower half .0-.3: .2 and .3
    assert [ipam.allocate("a"), ipam.allocate("b")] == ["198.19.77.2", "198.19.77.3"]
    with pytest.raises(AddressesExhausted, match="no free pod address left in 198.19.77.0/29"):
        ipam.allocate("c")
    ipam.release("a")
    assert ipam.allocate("c") == "198.19.77.2", "round-robin wraps around"
