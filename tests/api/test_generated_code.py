"""The committed generated code is what proto/ generates today."""
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_generated_code_matches_proto():
    result = subprocess.run([sys.executable, str(REPO / "proto" / "generate.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
