"""On a node of a real local cluster (`cox local up`, a real agent): secrets are root's alone.

An attacker here is any local user of a node. They must not find the join
token on a command line (`ps` reads /proc/PID/cmdline, world-readable), nor
read a pod's Secret volume or the agent's credentials on the disk.
"""
import pathlib
import stat
import subprocess

import pytest

from controlplane.api.kinds import KINDS
from controlplane.client.join import parse_join_token
from localcluster.images import BUSYBOX_IMAGE
from tests.support.cluster import local_cluster
from tests.support.control_plane import cox_command, cox_env
from tests.support.polling import eventually

NOBODY = 65534


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(nodes=1) as running:
        yield running


def command_lines() -> dict[int, bytes]:
    """Every process's command line, as `ps` shows it to anyone."""
    found = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes()
            except OSError:   # gone meanwhile
                pass
    return found


def test_no_command_line_shows_the_join_token(cluster):
    token = (cluster.layout.server_dir / "node-token").read_text().strip()
    _, secret = parse_join_token(token)
    agent_pid = cluster.state.nodes[0].agent.pid
    lines = command_lines()
    assert b"agent.cli\0agent" in lines[agent_pid] and b"--token-file" in lines[agent_pid]
    assert [pid for pid, line in lines.items() if secret.encode() in line] == []


def as_nobody(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv],
                          capture_output=True, text=True, timeout=30)


def mode(path: pathlib.Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_secret_volumes_are_root_only_on_the_node(cluster):
    client = cluster.client()
    secret = KINDS["Secret"].new(metadata={"name": "db", "namespace": "default"}, data={"password": b"hunter2"})
    await client.resource("Secret").create(secret)
    pod = KINDS["Pod"].new(
        metadata={"name": "reader", "namespace": "default"},
        spec={"containers": [{"name": "main", "image": BUSYBOX_IMAGE, "command": ["sleep", "3600"],
                              "volume_mounts": [{"name": "asked", "mount_path": "/asked"},
                                                {"name": "defaulted", "mount_path": "/defaulted"}]}],
              "volumes": [{"name": "asked", "secret": {"secret_name": "db", "default_mode": 0o600}},
                          {"name": "defaulted", "secret": {"secret_name": "db"}}]})
    uid = (await client.resource("Pod").create(pod)).metadata.uid

    async def running():
        return (await client.resource("Pod").get("reader", namespace="default")).status.phase == "Running"
    await eventually(running, timeout=180, what="the pod running")

    root = cluster.layout.node_dir(cluster.nodes[0]) / "agent"
    volumes = root / "pods" / uid / "volumes"
    asked, defaulted = volumes / "asked" / "password", volumes / "defaulted" / "password"
    assert asked.read_bytes() == b"hunter2"
    # The pod's modes, as Kubernetes gives them: defaultMode, or the API's 0644 (a container's own
    # non-root user must be able to read its secrets) ...
    assert (mode(asked.resolve()), mode(defaulted.resolve())) == (0o600, 0o644)
    # ... and on the host, no one but root gets to them: the agent's root and its pods/ are 0700.
    assert mode(root) == 0o700 and mode(root / "pods") == 0o700
    for path in (asked, defaulted, root / "client.yaml"):
        refused = as_nobody("cat", str(path))
        assert refused.returncode != 0 and "Permission denied" in refused.stderr, refused
    await client.resource("Pod").delete("reader", namespace="default", grace_period_seconds=0)
    await client.close()


@pytest.mark.parametrize("content, problem", [(None, "No such file or directory"), ("\n", "the file is empty")])
def test_a_bad_token_file_is_one_line(tmp_path, content, problem):
    token_file = tmp_path / "node-token"
    if content is not None:
        token_file.write_text(content)
    result = subprocess.run(
        cox_command("agent", "--server", "127.0.0.1:1", "--token-file", str(token_file), "--node-ip", "127.0.0.1",
                    "--root-dir", str(tmp_path / "agent")),
        env=cox_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"error: --token-file {token_file}: {problem}"]
