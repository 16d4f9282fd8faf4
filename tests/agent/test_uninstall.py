"""deploy/uninstall.sh on a made-up root (COX_UNINSTALL_ROOT): its arguments, stopping the daemons install.sh
started without systemd (by PID, only while the PID is still theirs), the agent's clean-up it asks for, and
what it deletes (the venv only with --remove-venv).

The host's own /var/lib/cox, /opt/coxswain (the venv these tests run from) and network must not be touched,
so `cox` here is a stand-in script under the made-up root that records how it was called: what
`cox agent --cleanup` does is tested for real in test_cleanup.py. Not tested here: the systemd path
(`systemctl disable --now`; this machine has no systemd) and the refusal to run without root.
"""
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.control_plane import REPO

UNINSTALL = REPO / "deploy" / "uninstall.sh"
VENV = "opt/coxswain/venv"
AGENT_ARGS = "--node-name n1 --docker-url unix:///run/other.sock"


def uninstall(*args: str, root: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, COX_UNINSTALL_ROOT=str(root)) if root else dict(os.environ)
    return subprocess.run([str(UNINSTALL), *args], capture_output=True, text=True, timeout=60, env=env)


def daemon(argv0: str) -> subprocess.Popen:
    """A process whose command line reads like `argv0 300` (bash's exec -a), in its own session."""
    return subprocess.Popen(["bash", "-c", f'exec -a "{argv0}" sleep 300'], start_new_session=True)


@pytest.fixture
def root(tmp_path):
    """A file system as install.sh leaves it, with a stand-in `cox` that logs its arguments to cox.calls."""
    root = tmp_path / "root"
    for path in ("run/cox", "etc/cox", "var/lib/cox/agent", "var/log/cox", "root/.cox", "usr/local/bin",
                 f"{VENV}/bin", "run/cox-local/demo"):
        (root / path).mkdir(parents=True)
    (root / "etc/cox/cox-agent.env").write_text(f"COX_SERVER=127.0.0.1:6443\nCOX_TOKEN=K10x::node:y\n"
                                               f"COX_AGENT_ARGS={AGENT_ARGS}\n")
    (root / "var/lib/cox/admin.yaml").write_text("server: 127.0.0.1:6443\n")
    (root / "root/.cox/config").write_text("server: 127.0.0.1:6443\n")
    (root / "var/log/cox/cox-agent.log").write_text("")
    (root / "run/cox-local/demo/state.json").write_text("{}")
    (root / "usr/local/bin/cox").symlink_to(f"/{VENV}/bin/cox")
    cox = root / VENV / "bin/cox"
    cox.write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/cox.calls\n')
    cox.chmod(0o755)
    return root


def calls(root: Path) -> list[str]:
    path = root.parent / "cox.calls"
    return path.read_text().splitlines() if path.exists() else []


def test_bad_arguments_change_nothing(root):
    done = uninstall("--purge", root=root)
    assert done.returncode == 2 and "usage:" in done.stderr
    assert calls(root) == [] and (root / "var/lib/cox").exists()


def test_help_is_the_scripts_header():
    done = uninstall("--help")
    assert done.returncode == 0 and "--remove-venv" in done.stdout and "Docker stays installed" in done.stdout


def test_stops_the_daemons_by_pid_cleans_up_and_deletes_what_install_made_but_the_venv(root):
    agent, server = daemon("/opt/coxswain/venv/bin/cox agent"), daemon("cox server")
    try:
        (root / "run/cox/cox-agent.pid").write_text(f"{agent.pid}\n")
        (root / "run/cox/cox-server.pid").write_text(f"{server.pid}\n")
        (root / "root/.cox/other").write_text("")   # not ours: the directory stays
        done = uninstall(root=root)
        assert done.returncode == 0, done.stderr
        assert agent.wait(5) == -15 and server.wait(5) == -15   # SIGTERM
    finally:
        for proc in (agent, server):
            proc.kill()
            proc.wait()
    assert calls(root) == [f"agent --cleanup --cleanup-pods {AGENT_ARGS}", "local down --name demo"]
    for gone in ("run/cox", "var/lib/cox", "etc/cox", "var/log/cox", "root/.cox/config"):
        assert not (root / gone).exists(), gone
    assert (root / VENV / "bin/cox").exists() and (root / "usr/local/bin/cox").is_symlink()
    assert (root / "root/.cox/other").exists()
    assert "--remove-venv deletes it" in done.stdout


def test_a_pidfile_whose_pid_is_another_programs_leaves_that_process_alone(root):
    stranger = daemon("sleep")
    try:
        (root / "run/cox/cox-agent.pid").write_text(f"{stranger.pid}\n")
        done = uninstall(root=root)
        assert done.returncode == 0, done.stderr
        assert "cox-agent was not running" in done.stdout and stranger.poll() is None
        assert not (root / "run/cox/cox-agent.pid").exists()
    finally:
        stranger.kill()
        stranger.wait()


def test_remove_venv_deletes_the_venv_and_the_link_to_it(root):
    done = uninstall("--remove-venv", root=root)
    assert done.returncode == 0, done.stderr
    assert not (root / "opt/coxswain").exists() and not (root / "usr/local/bin/cox").is_symlink()

    again = uninstall("--remove-venv", root=root)
    assert again.returncode == 0 and "skipping the agent's clean-up" in again.stdout


def test_never_deletes_into_a_mount(root):
    volume = root / "var/lib/cox/agent/pods/uid/volumes/token"
    volume.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(volume)], check=True)
    try:
        (volume / "token").write_text("secret")
        done = uninstall(root=root)
        assert done.returncode == 0, done.stderr
        assert "could not delete all of /var/lib/cox" in done.stdout
        assert (volume / "token").read_text() == "secret"
        assert not (root / "etc/cox").exists()
    finally:
        subprocess.run(["umount", "-l", str(volume)], check=False)
