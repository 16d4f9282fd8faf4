"""`cox agent --token-file`: the join token read from a file, so it is on no command line.

deploy/install.sh starts agents this way; a missing or empty file is one clear
error naming the flag, before the agent touches Docker or the network.
"""
import subprocess
import sys

from agent.cli import read_token_file


def _agent(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agent.cli", "agent", "--server", "127.0.0.1:1", *args],
                          capture_output=True, text=True, timeout=60)


def test_the_token_is_the_file_content_stripped(tmp_path):
    path = tmp_path / "node-token"
    path.write_text("  K10abc::node:secret\n")
    assert read_token_file(path) == "K10abc::node:secret"


def test_a_missing_file_is_one_error_naming_the_flag(tmp_path):
    result = _agent("--token-file", str(tmp_path / "absent"))
    assert result.returncode != 0
    assert result.stderr.strip() == f"error: --token-file: No such file or directory: {tmp_path / 'absent'}"


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "node-token"
    path.write_text("\n")
    result = _agent("--token-file", str(path))
    assert result.returncode != 0
    assert result.stderr.strip() == f"error: --token-file: {path} is empty"
