"""`cox agent` as a child process, killed or stopped by PID."""
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.control_plane import cox_env
from tests.support.dockerd import PrivateDockerd


class AgentProcess:
    def __init__(self, *, server: str, token: str, dockerd: PrivateDockerd, root: Path, node_name: str = "node1",
                 extra_args=()) -> None:
        self.args = [sys.executable, "-m", "agent.cli", "agent", "--server", server, "--token", token,
                     "--node-name", node_name, "--docker-url", dockerd.base_url, "--root-dir", str(root),
                     "--node-ip", dockerd.gateway, "--listen", f"{dockerd.gateway}:0", *extra_args]
        self.root = root
        self.log_path = root.parent / f"{root.name}-agent.log"
        self.home = root.parent / f"{root.name}-home"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "AgentProcess":
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.args, env=cox_env(self.home), stdout=log, stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        """SIGKILL: the crash case."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
