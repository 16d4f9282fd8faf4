"""Daemons that outlive `cox local up`, and stopping exactly them later, by PID.

A PID alone is not an identity: after the process ends the number may be
reused. Each record keeps the process's start time (field 22 of
/proc/PID/stat) too, and nothing is signalled unless both still match.
Processes are started in a session of their own so a Ctrl-C in the terminal
that ran `up` does not reach them.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Proc:
    pid: int
    start: int   # clock ticks after boot, from /proc/PID/stat

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Proc:
        return cls(pid=int(data["pid"]), start=int(data["start"]))


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time) of a live process, None if there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()   # after "pid (comm) "
    return fields[0], int(fields[19])


def identify(pid: int) -> Proc | None:
    stat = _stat(pid)
    return None if stat is None else Proc(pid, stat[1])


def alive(proc: Proc) -> bool:
    """Running (not a zombie) and still the process we started."""
    _reap(proc.pid)
    stat = _stat(proc.pid)
    return stat is not None and stat[0] != "Z" and stat[1] == proc.start


def spawn(argv: list[str], *, log_path: Path, env: dict | None = None, netns: str | None = None) -> Proc:
    """Start argv detached (in `netns` through nsenter, which execs it: the PID is the command's)."""
    if netns is not None:
        argv = ["nsenter", f"--net=/run/netns/{netns}", *argv]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                 start_new_session=True)
    proc = identify(child.pid)
    if proc is None:
        child.wait()
        raise RuntimeError(f"{argv[0]} exited at once (see {log_path})")
    return proc


def stop(proc: Proc, *, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; nothing if it is gone or is someone else now."""
    if not alive(proc):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    if wait_gone(proc, grace):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    wait_gone(proc, 5.0)


def wait_gone(proc: Proc, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(proc):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def kill_all(pids: list[int]) -> None:
    """SIGKILL each (for leftovers found in our own namespaces and cgroups)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in pids:
        _reap(pid)


def _reap(pid: int) -> None:
    """Collect it if it is our child (a test that ran `up` in-process), so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
