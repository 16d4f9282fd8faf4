"""The session's leak check (tests/support/leaks.py) sees a coxswain-named link left on the host, and excuses
one that a live process of another run names (its dockerd, say) until that run tears it down."""
import os
import secrets
import signal
import subprocess

from pyroute2 import IPRoute

from tests.support.leaks import host_objects, leaked_since


def test_a_link_left_behind_is_a_leak_unless_another_run_holds_it():
    name = f"cox{secrets.token_hex(4)}"   # as a PrivateDockerd names its bridge
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
