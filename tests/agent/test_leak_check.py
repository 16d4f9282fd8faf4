"""The session's leak check (tests/support/leaks.py) sees a coxswain-named link left on the host, and excuses
one that a live process of another run names (its dockerd, say) until that run tears it down."""
import os
import secrets
import signal
import subprocess

from pyroute2 import IPRoute

from tests.support.leaks import _held, host_objects, leaked_since


def test_a_link_left_behind_is_a_leak_unless_another_run_holds_it():
    name = f"coxlk{secrets.token_hex(4)}"   # as a PrivateDockerd(prefix="coxlk") names its bridge
    before = host_objects()
    holder = None
    with IPRoute() as ipr:
        ipr.link("add", ifname=name, kind="bridge")
    try:
        assert leaked_since(before, settle=0) == [f"link {name}"]
        # A process outside this run (its parent exits at once, so it is not below this one) naming it.
        started = subprocess.run(
            ["bash", "-c", f'(exec -a "dockerd --bridge {name}" sleep 60 >/dev/null 2>&1) & echo $!'],
            capture_output=True, text=True, check=True)
        holder = int(started.stdout)
        assert leaked_since(before, settle=0) == []
    finally:
        if holder:
            os.kill(holder, signal.SIGKILL)
        with IPRoute() as ipr:
            for index in ipr.link_lookup(ifname=name):
                ipr.link("del", index=index)
    assert leaked_since(before, settle=0) == []


def test_what_holds_an_object():
    cluster_dockerd = "dockerd --exec-root /run/cox-local/t1a2b3c4d/node1/exec"
    assert _held("netns cox-t1a2b3c4d-sw", [cluster_dockerd])
    assert not _held("netns cox-t9a2b3c4d-sw", [cluster_dockerd])
    assert not _held("link cox0", ["dockerd --bridge cox0a1b2c3d"]), "a name inside another is not that name"
    assert not _held("route 198.19.1.0/24 proto 155", ["sleep 155"]), "only named objects can be held"
