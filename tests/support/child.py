"""A process a test started (`cox server`, `cox agent`): its output in a log file, stopped or killed by PID."""
import pathlib
import signal
import subprocess


class ChildProcess:
    """Start with `spawn()`; `stop()` is SIGTERM then, after `grace` seconds, SIGKILL; `kill()` is the crash."""

    grace = 10.0

    def __init__(self, log_path: pathlib.Path) -> None:
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def spawn(self, argv: list[str], *, env: dict) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: the crash case."""
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.running():
            self.proc.terminate()
            try:
                self.proc.wait(self.grace)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self, chars: int = 3000) -> str:
        """The end of its output, for a failure message."""
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""
