"""Start a real etcd (Debian's etcd-server) for tests and benchmarks.

One single-member cluster on free loopback ports with its data in a fresh
temporary directory, stopped by its PID and removed afterwards:

    with EtcdServer() as etcd:
        store = await open_store(etcd.url)

The server is tuned for a test machine, not for safety trade-offs: fsync stays
on (benchmarks measure the real thing), but the raft heartbeat is short so the
member elects itself at once and the minimum lease TTL is 1 s, and watch
progress notifications come every `progress_interval` instead of every 10
minutes (EtcdStore relies on them; see controlplane/store/etcd.py).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

from tests.support.ports import free_port

ETCD_BINARY = "/usr/bin/etcd"


class EtcdServer:
    """One etcd process; `url` is the datastore URL (etcd://127.0.0.1:PORT)."""

    def __init__(self, *, progress_interval: str = "200ms", startup_timeout: float = 30.0, extra_args=()):
        self.progress_interval = progress_interval
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self.data_dir: str | None = None
        self.client_port = 0

    @property
    def url(self) -> str:
        return f"etcd://127.0.0.1:{self.client_port}"

    def start(self) -> "EtcdServer":
        self.data_dir = tempfile.mkdtemp(prefix="cox-etcd-")
        for _attempt in range(3):  # a port may be taken between bind(0) and etcd's bind
            self.client_port, peer_port = free_port(), free_port()
            with open(os.path.join(self.data_dir, "etcd.log"), "ab") as log:
                self.process = subprocess.Popen(self._command(peer_port), stdout=subprocess.DEVNULL,
                                                stderr=log)
            if self._wait_healthy():
                return self
            self._kill()
        log = self.log_tail()
        self.stop()
        raise RuntimeError(f"etcd did not become healthy; log tail:\n{log}")

    def _command(self, peer_port: int) -> list[str]:
        client = f"http://127.0.0.1:{self.client_port}"
        peer = f"http://127.0.0.1:{peer_port}"
        return [ETCD_BINARY, "--name", "cox-test", "--data-dir", os.path.join(self.data_dir, "member"),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", f"cox-test={peer}", "--initial-cluster-state", "new",
                "--heartbeat-interval", "10", "--election-timeout", "100",
                "--experimental-watch-progress-notify-interval", self.progress_interval,
                "--log-level", "warn", "--logger", "zap", *self.extra_args]

    def _wait_healthy(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.client_port}/health", timeout=1) as r:
                    if json.load(r).get("health") == "true":
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def log_tail(self, lines: int = 20) -> str:
        try:
            with open(os.path.join(self.data_dir, "etcd.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def stop(self) -> None:
        self._kill()
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    def __enter__(self) -> "EtcdServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
